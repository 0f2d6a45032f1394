//! R21 in the JavaScript API: a transaction's slip, the merchant's name, and the settled
//! batches, kept in the browser and read from the host, for printing and reprinting.

use super::api::Terminal;
use super::client;
use super::js::{camelize, field, js_error, to_js};
use crate::error::ErrorCode;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen]
impl Terminal {
    /// R21: the slip [签购单] of the open batch's transaction with this trace number, or of
    /// its last transaction without one, for printing or reprinting; `null` when there is
    /// none. The merchant's name is the host's (`terminal add --merchant-name`).
    #[wasm_bindgen(unchecked_return_type = "Slip | null")]
    pub fn slip(&self, trace_no: Option<u32>) -> JsValue {
        match self.inner.borrow().machine.slip(trace_no) {
            Some(slip) => to_js(&slip),
            None => JsValue::NULL,
        }
    }

    /// The merchant's name as its slips print it, once the host has told it, or `null`.
    #[wasm_bindgen(getter, js_name = merchantName)]
    pub fn merchant_name(&self) -> Option<String> {
        self.inner
            .borrow()
            .machine
            .merchant_name()
            .map(str::to_owned)
    }

    /// R21: the settlements this browser kept (the last 10), oldest first, whole, for
    /// reprinting their slips.
    #[wasm_bindgen(js_name = settledBatches, unchecked_return_type = "SettlementResult[]")]
    pub fn settled_batches(&self) -> JsValue {
        let i = self.inner.borrow();
        i.machine
            .settled_history()
            .map(to_js)
            .collect::<Array>()
            .into()
    }

    /// R21: the terminal's settled batches as the host keeps them (its Z reports), from
    /// business date `since` (`YYYY-MM-DD`; the host's last 30 days without it), oldest
    /// first, with both sides' totals, the outcome and the number of discrepancies. A read
    /// beside the operations, as `findSales`.
    #[wasm_bindgen(js_name = settlementHistory, unchecked_return_type = "Promise<SettledBatch[]>")]
    pub fn settlement_history(&self, since: Option<String>) -> Promise {
        let (lookup, url, timeout) = {
            let i = self.inner.borrow();
            let lookup = i.machine.history_lookup(since.as_deref());
            (lookup, i.host_url.clone(), i.timeout_ms)
        };
        let lookup = match lookup {
            Ok(lookup) => lookup,
            Err(e) => return Promise::reject(&js_error(&e)),
        };
        future_to_promise(async move {
            let answer = client::get(&url, &lookup.path, &lookup.auth, timeout).await;
            answer
                .and_then(|json| {
                    let list = field(&json, "settlements");
                    if Array::is_array(&list) {
                        Ok(camelize(list))
                    } else {
                        Err(ErrorCode::HostUnreachable.into())
                    }
                })
                .map_err(|e| js_error(&e))
        })
    }
}
