//! The softpos reference acquirer host.

fn main() {}
