//! Whatever an acquirer (or the network) sends, decoding it by the UnionPay table returns an
//! answer, never a panic; and a frame it accepts is one the codec would write byte for byte, so
//! nothing it lets through is read in two ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softpos_iso8583::Spec;

fuzz_target!(|data: &[u8]| {
    let spec = Spec::unionpay();
    if let Ok(frame) = spec.decode(data) {
        let again = spec.encode(&frame).expect("a decoded frame encodes");
        assert_eq!(again, data, "decode then encode changed the bytes");
        let _ = frame.to_string();
    }
});
