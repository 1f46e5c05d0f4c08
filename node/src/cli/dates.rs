//! Calendar dates as the workflow commands take them: `YYYY-MM-DD`, checked to be a real
//! date ([`parse`], the same rule the model applies), today's date, and the default
//! handling deadline, three calendar months after assignment ([`months_on`]).

use confer_protocol::model::schema::parse_date;

use crate::i18n::Lang;

/// A calendar date: (year, month, day), a real date from 1900 on.
pub type Date = (u32, u32, u32);

/// `value` given with `flag`, if it is a real date `YYYY-MM-DD`; otherwise a message that
/// names the flag, the value and the expected form.
pub fn parse(lang: Lang, flag: &str, value: &str) -> Result<Date, String> {
    parse_date(value.trim()).ok_or_else(|| {
        let shown = confer_protocol::text::display_line(value);
        match lang {
            Lang::En => format!("{flag} \"{shown}\" is not a date: give a real calendar date as YYYY-MM-DD, e.g. 2025-03-31"),
            Lang::Zh => format!("{flag} “{shown}”不是有效日期：请按 YYYY-MM-DD 格式填写实际存在的日期，如 2025-03-31"),
        }
    })
}

/// `date` as `YYYY-MM-DD`.
pub fn format((year, month, day): Date) -> String {
    format!("{year:04}-{month:02}-{day:02}")
}

/// The days in `month` of `year` (Gregorian leap years).
// `u32::is_multiple_of` is newer than the workspace's rust-version (1.85).
#[allow(clippy::manual_is_multiple_of)]
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The date `months` calendar months after `date`, on the same day of the month, or on
/// the month's last day where it is shorter (Jan 31 + 3 months = Apr 30).
pub fn months_on((year, month, day): Date, months: u32) -> Date {
    let zero_based = month.saturating_sub(1) + months;
    let (year, month) = (year + zero_based / 12, zero_based % 12 + 1);
    (year, month, day.min(days_in_month(year, month)))
}

/// Today's date in the local time zone, as the system's `date +%F` gives it; in UTC if
/// that cannot be run.
pub fn today() -> Date {
    local_today().unwrap_or_else(|| {
        let days = crate::runtime::unix_now() / 86_400;
        civil_from_days(u32::try_from(days).unwrap_or(u32::MAX))
    })
}

fn local_today() -> Option<Date> {
    if !cfg!(unix) {
        return None;
    }
    let out = std::process::Command::new("date")
        .arg("+%F")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_date(std::str::from_utf8(&out.stdout).ok()?.trim())
}

/// The civil date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`;
/// every quantity is non-negative from 1970 on).
fn civil_from_days(days: u32) -> Date {
    let z = u64::from(days) + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    (narrow(year), narrow(month), narrow(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_months_on_keeps_the_day_or_takes_the_months_last() {
        assert_eq!(months_on((2025, 1, 15), 3), (2025, 4, 15));
        assert_eq!(months_on((2025, 1, 31), 3), (2025, 4, 30));
        assert_eq!(months_on((2025, 3, 31), 3), (2025, 6, 30));
        assert_eq!(months_on((2025, 5, 31), 3), (2025, 8, 31));
        // Across the year's end.
        assert_eq!(months_on((2025, 10, 1), 3), (2026, 1, 1));
        assert_eq!(months_on((2025, 12, 31), 3), (2026, 3, 31));
        // Into February: 29 days in a leap year (divisible by 4, by 400), 28 otherwise
        // (not divisible by 4, or by 100 but not 400).
        assert_eq!(months_on((2023, 11, 30), 3), (2024, 2, 29));
        assert_eq!(months_on((2024, 11, 30), 3), (2025, 2, 28));
        assert_eq!(months_on((1999, 11, 29), 3), (2000, 2, 29));
        assert_eq!(months_on((2099, 11, 29), 3), (2100, 2, 28));
        assert_eq!(months_on((2023, 11, 28), 3), (2024, 2, 28));
        // From Feb 29 on.
        assert_eq!(months_on((2024, 2, 29), 3), (2024, 5, 29));
        assert_eq!(months_on((2024, 2, 29), 12), (2025, 2, 28));
        assert_eq!(format(months_on((2025, 1, 31), 3)), "2025-04-30");
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(parse(Lang::En, "--date", "2024-02-29"), Ok((2024, 2, 29)));
        assert_eq!(parse(Lang::En, "--date", " 2025-03-31 "), Ok((2025, 3, 31)));
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
    }

    #[test]
    fn days_from_the_epoch_and_today() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_089), (2025, 1, 1));
        let today = today();
        assert!(parse_date(&format(today)).is_some(), "{today:?}");
    }
}
