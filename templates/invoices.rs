//! Invoice pages and the invoice PDF.
