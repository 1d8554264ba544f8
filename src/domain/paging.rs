//! Pages of a list: every list the service answers with is read a page at a time, and says how
//! many there are in all, so nothing is ever cut off without a word.

use super::validate::{FieldError, Invalid};

/// Rows per page when the caller does not say.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// The most rows one page may hold.
pub const MAX_PER_PAGE: u32 = 200;
/// Beyond this a page number is a mistake, not a list this long.
pub const MAX_PAGE: u32 = 100_000;

/// Which page of a list, checked: `page` from 1, `per_page` from 1 to [`MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> PageRequest {
        PageRequest {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    /// Each problem names its parameter (`page`, `per_page`).
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Result<PageRequest, Invalid> {
        let mut problems = Vec::new();
        let page = page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            problems.push(FieldError::new("page", format!("must be from 1 to {MAX_PAGE}")));
        }
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            problems.push(FieldError::new("per_page", format!("must be from 1 to {MAX_PER_PAGE}")));
        }
        if problems.is_empty() {
            Ok(PageRequest { page, per_page })
        } else {
            Err(Invalid(problems))
        }
    }

    /// Rows to skip before this page.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    /// This page of a list already in memory.
    pub fn slice<T>(self, all: Vec<T>) -> Page<T> {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(usize::try_from(self.offset()).unwrap_or(usize::MAX))
            .take(self.per_page as usize)
            .collect();
        Page::new(items, total, self)
    }
}

/// One page of a list and where it sits in the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows in the whole list, on every page.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: u64, request: PageRequest) -> Page<T> {
        Page {
            items,
            total,
            page: request.page,
            per_page: request.per_page,
        }
    }

    /// A list answered whole, as one page: what a request just made, say.
    pub fn whole(items: Vec<T>) -> Page<T> {
        let total = items.len() as u64;
        let per_page = u32::try_from(items.len().max(1)).unwrap_or(u32::MAX);
        Page {
            items,
            total,
            page: 1,
            per_page,
        }
    }

    /// The number of the last page (1 for an empty list).
    pub fn pages(&self) -> u32 {
        let pages = self.total.div_ceil(u64::from(self.per_page)).max(1);
        u32::try_from(pages).unwrap_or(u32::MAX)
    }

    /// The positions (from 1) of the first and last rows shown, or None on an empty page.
    pub fn shown(&self) -> Option<(u64, u64)> {
        if self.items.is_empty() {
            return None;
        }
        let first = u64::from(self.page - 1) * u64::from(self.per_page) + 1;
        Some((first, first + self.items.len() as u64 - 1))
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(page: Option<u32>, per_page: Option<u32>) -> Vec<String> {
        PageRequest::new(page, per_page)
            .err()
            .map(|e| e.0.into_iter().map(|f| f.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn defaults_to_the_first_page_of_fifty() {
        assert_eq!(PageRequest::new(None, None), Ok(PageRequest { page: 1, per_page: 50 }));
    }

    #[test]
    fn names_each_parameter_out_of_range() {
        assert_eq!(fields(Some(0), None), ["page"]);
        assert_eq!(fields(None, Some(0)), ["per_page"]);
        assert_eq!(fields(None, Some(MAX_PER_PAGE + 1)), ["per_page"]);
        assert_eq!(fields(Some(MAX_PAGE + 1), Some(500)), ["page", "per_page"]);
        assert!(fields(Some(MAX_PAGE), Some(MAX_PER_PAGE)).is_empty());
    }

    #[test]
    fn slices_keep_the_total_and_say_what_is_shown() {
        let request = PageRequest::new(Some(3), Some(4)).unwrap();
        let page = request.slice((1..=10).collect::<Vec<_>>());
        assert_eq!(page.items, [9, 10]);
        assert_eq!((page.total, page.pages(), page.shown()), (10, 3, Some((9, 10))));
        let beyond = PageRequest::new(Some(4), Some(4))
            .unwrap()
            .slice((1..=10).collect::<Vec<_>>());
        assert!(beyond.items.is_empty());
        assert_eq!((beyond.total, beyond.shown()), (10, None));
    }

    #[test]
    fn an_empty_list_has_one_page() {
        let page = PageRequest::default().slice(Vec::<u8>::new());
        assert_eq!((page.pages(), page.shown()), (1, None));
    }

    #[test]
    fn offsets_do_not_overflow_on_the_last_allowed_page() {
        let request = PageRequest::new(Some(MAX_PAGE), Some(MAX_PER_PAGE)).unwrap();
        assert_eq!(request.offset(), i64::from(MAX_PAGE - 1) * i64::from(MAX_PER_PAGE));
    }
}
