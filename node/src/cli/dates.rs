//! Calendar dates as the workflow commands take them: `YYYY-MM-DD`, checked to be a real
//! date by the model's own rule ([`Date::parse`]), today's date, and the default handling
//! deadline, three calendar months after assignment ([`months_on`]).

pub use confer_protocol::model::date::Date;

use crate::i18n::Lang;

/// `value` given with `flag`, if it is a real date `YYYY-MM-DD`; otherwise a message that
/// names the flag, the value and the expected form.
pub fn parse(lang: Lang, flag: &str, value: &str) -> Result<Date, String> {
    Date::parse(value.trim()).ok_or_else(|| {
        let shown = confer_protocol::text::display_line(value);
        match lang {
            Lang::En => format!("{flag} \"{shown}\" is not a date: give a real calendar date as YYYY-MM-DD, e.g. 2025-03-31"),
            Lang::Zh => format!("{flag} “{shown}”不是有效日期：请按 YYYY-MM-DD 格式填写实际存在的日期，如 2025-03-31"),
        }
    })
}

/// `date` as `YYYY-MM-DD`.
pub fn format(date: Date) -> String {
    date.to_string()
}

/// The date `months` calendar months after `date`, on the same day of the month, or on
/// the month's last day where it is shorter (Jan 31 + 3 months = Apr 30).
pub fn months_on(date: Date, months: u32) -> Date {
    date.add_months(months)
}

/// Today in the committees' time zone (Beijing time, as the node's own "today" is).
pub fn today() -> Date {
    Date::from_unix_seconds(crate::runtime::unix_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u32, m: u32, day: u32) -> Date {
        Date {
            year: y,
            month: m,
            day,
        }
    }

    #[test]
    fn three_months_on_keeps_the_day_or_takes_the_months_last() {
        assert_eq!(months_on(d(2025, 1, 15), 3), d(2025, 4, 15));
        assert_eq!(months_on(d(2025, 1, 31), 3), d(2025, 4, 30));
        assert_eq!(months_on(d(2025, 3, 31), 3), d(2025, 6, 30));
        assert_eq!(months_on(d(2025, 5, 31), 3), d(2025, 8, 31));
        // Across the year's end.
        assert_eq!(months_on(d(2025, 10, 1), 3), d(2026, 1, 1));
        assert_eq!(months_on(d(2025, 12, 31), 3), d(2026, 3, 31));
        // Into February: 29 days in a leap year (divisible by 4, by 400), 28 otherwise
        // (not divisible by 4, or by 100 but not 400).
        assert_eq!(months_on(d(2023, 11, 30), 3), d(2024, 2, 29));
        assert_eq!(months_on(d(2024, 11, 30), 3), d(2025, 2, 28));
        assert_eq!(months_on(d(1999, 11, 29), 3), d(2000, 2, 29));
        assert_eq!(months_on(d(2099, 11, 29), 3), d(2100, 2, 28));
        // From Feb 29 on.
        assert_eq!(months_on(d(2024, 2, 29), 3), d(2024, 5, 29));
        assert_eq!(months_on(d(2024, 2, 29), 12), d(2025, 2, 28));
        assert_eq!(format(months_on(d(2025, 1, 31), 3)), "2025-04-30");
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(parse(Lang::En, "--date", "2024-02-29"), Ok(d(2024, 2, 29)));
        assert_eq!(
            parse(Lang::En, "--date", " 2025-03-31 "),
            Ok(d(2025, 3, 31))
        );
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-4-1",
            "20250401",
            "",
            "昨天",
        ] {
            let en = parse(Lang::En, "--date", bad).expect_err(bad);
            assert!(en.contains("--date") && en.contains("YYYY-MM-DD"), "{en}");
            let zh = parse(Lang::Zh, "--due", bad).expect_err(bad);
            assert!(zh.contains("--due") && zh.contains("不是有效日期"), "{zh}");
        }
        assert!(Date::parse(&format(today())).is_some());
    }
}
