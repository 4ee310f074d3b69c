//! Transactions: compare, then run one branch, all at one revision.

use std::cmp::Ordering;

use crate::error::{Result, StoreError};
use crate::kv::KeyValue;
use crate::range::KeyRange;
use crate::request::{
    Compare, CompareResult, CompareTarget, DeleteRangeResponse, PutResponse, RequestOp, ResponseOp,
    TxnRequest, TxnResponse,
};
use crate::store::{LATEST, Store};
use crate::write::Write;

// ANCHOR: holds
/// Whether a compare holds for the key's current value (`None`: the key does not exist).
pub fn compare_holds(compare: &Compare, current: Option<&KeyValue>) -> bool {
    // EXERCISE(store-txn-compare): a missing key fails every Value compare and otherwise counts as version/create/mod revision 0; order the key's field against the target, then check the ordering against compare.result
    let ordering = match (&compare.target, current) {
        (CompareTarget::Value(_), None) => return false,
        (CompareTarget::Value(target), Some(kv)) => kv.value.as_slice().cmp(target.as_slice()),
        (CompareTarget::Version(target), kv) => kv.map_or(0, |kv| kv.version).cmp(target),
        (CompareTarget::CreateRevision(target), kv) => {
            kv.map_or(0, |kv| kv.create_revision).cmp(target)
        }
        (CompareTarget::ModRevision(target), kv) => kv.map_or(0, |kv| kv.mod_revision).cmp(target),
    };
    match compare.result {
        CompareResult::Equal => ordering == Ordering::Equal,
        CompareResult::NotEqual => ordering != Ordering::Equal,
        CompareResult::Less => ordering == Ordering::Less,
        CompareResult::Greater => ordering == Ordering::Greater,
    }
    // END EXERCISE
}
// ANCHOR_END: holds

impl Store {
    // ANCHOR: txn
    /// Runs a transaction: every write of the chosen branch shares one new revision.
    pub fn txn(&mut self, request: &TxnRequest) -> Result<TxnResponse> {
        self.check_txn(request)?;
        let succeeded = request
            .compare
            .iter()
            .all(|compare| compare_holds(compare, self.latest(&compare.key)));
        let branch = if succeeded {
            &request.success
        } else {
            &request.failure
        };
        let mut write = self.begin_write();
        let responses = branch
            .iter()
            .map(|op| self.apply_op(&mut write, op))
            .collect();
        let header_revision = self.finish_write(write);
        Ok(TxnResponse {
            header_revision,
            succeeded,
            responses: with_revision(responses, header_revision),
        })
    }
    // ANCHOR_END: txn

    /// Runs one operation of a branch (already checked).
    fn apply_op(&mut self, write: &mut Write, op: &RequestOp) -> ResponseOp {
        match op {
            RequestOp::Range(range) => {
                let keys = KeyRange {
                    key: range.key.clone(),
                    range_end: range.range_end.clone(),
                };
                let at = if range.revision > 0 {
                    range.revision
                } else {
                    LATEST
                };
                ResponseOp::Range(self.range_at(range, &keys, at))
            }
            RequestOp::Put(put) => {
                let previous = self.apply_put(write, put);
                ResponseOp::Put(PutResponse {
                    header_revision: 0,
                    prev_kv: previous.filter(|_| put.prev_kv),
                })
            }
            RequestOp::DeleteRange(delete) => {
                let keys = KeyRange {
                    key: delete.key.clone(),
                    range_end: delete.range_end.clone(),
                };
                let deleted = self.apply_delete(write, &keys);
                ResponseOp::DeleteRange(DeleteRangeResponse {
                    header_revision: 0,
                    deleted: deleted.len() as i64,
                    prev_kvs: if delete.prev_kv { deleted } else { Vec::new() },
                })
            }
        }
    }

    /// Checks both branches before anything runs, so a bad txn changes nothing.
    fn check_txn(&self, request: &TxnRequest) -> Result<()> {
        for (index, compare) in request.compare.iter().enumerate() {
            KeyRange::new(&compare.key, &[], &format!("compare[{index}]"))?;
        }
        self.check_branch(&request.success, "success")?;
        self.check_branch(&request.failure, "failure")
    }

    /// Checks every op of a branch, and that no key is written twice.
    fn check_branch(&self, ops: &[RequestOp], name: &str) -> Result<()> {
        let mut written: Vec<KeyRange> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            let field = format!("{name}[{index}]");
            let keys = match op {
                RequestOp::Range(range) => {
                    KeyRange::new(&range.key, &range.range_end, &format!("{field}.range"))?;
                    self.check_revision(range.revision)?;
                    continue;
                }
                RequestOp::Put(put) => {
                    self.check_put(put, &format!("{field}.put"))?;
                    KeyRange::single(&put.key)
                }
                RequestOp::DeleteRange(delete) => {
                    let field = format!("{field}.delete_range");
                    KeyRange::new(&delete.key, &delete.range_end, &field)?
                }
            };
            if written.iter().any(|earlier| overlaps(earlier, &keys)) {
                return Err(StoreError::invalid(
                    format!("{field}.key"),
                    "etcdserver: duplicate key given in txn request",
                ));
            }
            written.push(keys);
        }
        Ok(())
    }
}

/// Whether two written ranges can touch the same key, where at least one is a single key (a
/// put). Two deletes may overlap, as in etcd: deleting a key twice is harmless.
fn overlaps(a: &KeyRange, b: &KeyRange) -> bool {
    match (a.is_single_key(), b.is_single_key()) {
        (true, _) => b.contains(&a.key),
        (false, true) => a.contains(&b.key),
        (false, false) => false,
    }
}

/// Every response of a txn carries the txn's revision.
fn with_revision(responses: Vec<ResponseOp>, revision: i64) -> Vec<ResponseOp> {
    responses
        .into_iter()
        .map(|response| match response {
            ResponseOp::Range(mut r) => {
                r.header_revision = revision;
                ResponseOp::Range(r)
            }
            ResponseOp::Put(mut r) => {
                r.header_revision = revision;
                ResponseOp::Put(r)
            }
            ResponseOp::DeleteRange(mut r) => {
                r.header_revision = revision;
                ResponseOp::DeleteRange(r)
            }
        })
        .collect()
}
