package io.cairn.front.etcd;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;

/** etcd's request errors, with etcd's exact codes and texts (its clients recognise errors by their text). */
final class EtcdErrors {
  private EtcdErrors() {}

  static CairnException emptyKey() {
    return CairnException.invalid("etcdserver: key is not provided");
  }

  static CairnException valueProvided() {
    return CairnException.invalid("etcdserver: value is provided");
  }

  static CairnException leaseProvided() {
    return CairnException.invalid("etcdserver: lease is provided");
  }

  static CairnException tooManyOps() {
    return CairnException.invalid("etcdserver: too many operations in txn request");
  }

  static CairnException duplicateKey() {
    return CairnException.invalid("etcdserver: duplicate key given in txn request");
  }

  static CairnException requestTooLarge() {
    return CairnException.invalid("etcdserver: request is too large");
  }

  static CairnException leaseTtlTooLarge() {
    return new CairnException(ErrorCode.OUT_OF_RANGE, "etcdserver: too large lease TTL");
  }

  static CairnException noLeader() {
    return new CairnException(ErrorCode.UNAVAILABLE, "etcdserver: no leader");
  }

  /** etcd's answer to the streams still open when it stops; its clients resume them elsewhere or after the restart. */
  static CairnException serverStopped() {
    return new CairnException(ErrorCode.UNAVAILABLE, "etcdserver: server stopped");
  }

  static CairnException badLeaderTransferee() {
    return new CairnException(ErrorCode.FAILED_PRECONDITION, "etcdserver: bad leader transferee");
  }

  static CairnException membershipNeedsCluster() {
    return new CairnException(ErrorCode.UNIMPLEMENTED, "membership changes need Cairn's cluster mode, which this "
        + "build does not have yet; this server runs standalone");
  }
}
