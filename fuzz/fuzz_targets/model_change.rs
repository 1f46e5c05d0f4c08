#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    confer_fuzz::checks::model_change(data);
});
