//! Calendar dates as the workflow writes them (`YYYY-MM-DD`): parsing, day arithmetic and
//! the three-month default deadline. Pure; "today" comes from the caller.

use std::fmt;

/// A calendar date (proleptic Gregorian), 1900-01-01 or later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`; `None` unless it is a real calendar date from 1900 on.
    pub fn parse(value: &str) -> Option<Date> {
        let b = value.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |s: &str| -> Option<u32> {
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let (year, month, day) = (num(&value[..4])?, num(&value[5..7])?, num(&value[8..])?);
        (year >= 1900
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day))
        .then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: u32::try_from(year).unwrap_or(0),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// The date of a Unix time in seconds (UTC+8, the committees' time zone).
    pub fn from_unix_seconds(secs: u64) -> Date {
        let days = (i64::try_from(secs).unwrap_or(i64::MAX / 2) + 8 * 3600).div_euclid(86_400);
        Self::from_days(days)
    }

    /// The same day `months` calendar months later, clamped to the month's last day
    /// (Jan 31 + 3 months = Apr 30).
    pub fn add_months(&self, months: u32) -> Date {
        let index = self.month - 1 + months;
        let year = self.year + index / 12;
        let month = index % 12 + 1;
        Date {
            year,
            month,
            day: self.day.min(days_in_month(year, month)),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-04-31",
            "26-01-01",
            "2026-1-01",
            "1899-12-31",
            "２０２６-01-01",
            "+026-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_numbers_round_trip_and_count_days() {
        assert_eq!(d("1970-01-01").days(), 0);
        assert_eq!(d("2026-11-23").days() - d("2026-01-01").days(), 326);
        assert_eq!(d("2025-03-01").days() - d("2025-02-28").days(), 1);
        assert_eq!(d("2024-03-01").days() - d("2024-02-28").days(), 2);
        for n in (-25_000..80_000).step_by(37) {
            assert_eq!(Date::from_days(n).days(), n);
        }
    }

    #[test]
    fn three_months_on_clamps_to_the_month_end() {
        assert_eq!(d("2026-01-31").add_months(3), d("2026-04-30"));
        assert_eq!(d("2023-11-30").add_months(3), d("2024-02-29"));
        assert_eq!(d("2025-11-30").add_months(3), d("2026-02-28"));
        assert_eq!(d("2026-10-15").add_months(3), d("2027-01-15"));
    }

    #[test]
    fn unix_time_is_read_in_beijing_time() {
        // 2026-11-23 20:00 UTC is already the 24th in Beijing.
        assert_eq!(
            Date::from_unix_seconds(1_795_464_000).to_string(),
            "2026-11-24"
        );
    }
}
