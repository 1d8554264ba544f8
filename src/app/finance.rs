//! Providers' invoicing settings and bank details, and councils' invoicing and audit settings.
