package io.cairn.bus;

/**
 * Failures of the MVCC store. Their texts are etcd's own, byte for byte, because etcd clients recognise errors by
 * their text; the native API shows the same texts.
 */
public final class MvccErrors {
  private MvccErrors() {}

  public static final String COMPACTED = "etcdserver: mvcc: required revision has been compacted";
  public static final String FUTURE_REVISION = "etcdserver: mvcc: required revision is a future revision";
  public static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";
  public static final String LEASE_NOT_FOUND = "etcdserver: requested lease not found";
  public static final String LEASE_EXISTS = "etcdserver: lease already exists";
  public static final String KEY_NOT_FOUND = "etcdserver: key not found";

  public static CairnException compacted() {
    return new CairnException(ErrorCode.OUT_OF_RANGE, COMPACTED);
  }

  public static CairnException futureRevision() {
    return new CairnException(ErrorCode.OUT_OF_RANGE, FUTURE_REVISION);
  }

  public static CairnException noSpace() {
    return new CairnException(ErrorCode.RESOURCE_EXHAUSTED, NO_SPACE);
  }

  public static CairnException leaseNotFound() {
    return new CairnException(ErrorCode.NOT_FOUND, LEASE_NOT_FOUND);
  }

  public static CairnException leaseExists() {
    return new CairnException(ErrorCode.FAILED_PRECONDITION, LEASE_EXISTS);
  }

  public static CairnException keyNotFound() {
    return new CairnException(ErrorCode.INVALID_ARGUMENT, KEY_NOT_FOUND);
  }
}
