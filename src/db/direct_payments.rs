//! Direct-payment instalments, spending and recoveries.
