//! Locales: the four languages the demo mixes (Polish, Ukrainian, Romanian, Russian) and what
//! each shapes: gendered surnames, transliteration to ASCII for e-mail addresses, postal
//! codes, phone numbers, street addresses, coordinates around a city and company names.
//!
//! The word lists themselves are data, in [`super::names`].

use super::names::{self, City};
use super::rng::{Rng, fill_digits, pick};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Lang {
    #[default]
    Pl,
    Ua,
    Ro,
    Ru,
}

pub(super) const LANGS: &[(Lang, u32)] = &[(Lang::Pl, 40), (Lang::Ua, 25), (Lang::Ro, 20), (Lang::Ru, 15)];

pub(super) struct Locale {
    pub(super) country: &'static str,
    pub(super) male: &'static [&'static str],
    pub(super) female: &'static [&'static str],
    pub(super) surnames: &'static [&'static str],
    pub(super) streets: &'static [&'static str],
    pub(super) cities: &'static [City],
    pub(super) mobile: &'static [&'static str],
    pub(super) freemail: &'static [&'static str],
    pub(super) company_words: &'static [&'static str],
    pub(super) company_suffixes: &'static [&'static str],
    pub(super) company_mailboxes: &'static [&'static str],
    pub(super) tlds: &'static [&'static str],
    pub(super) positions: &'static [&'static str],
    pub(super) support_subjects: &'static [&'static str],
    pub(super) notes: &'static [&'static str],
}

static PL: Locale = Locale {
    country: "Polska",
    male: names::PL_MALE,
    female: names::PL_FEMALE,
    surnames: names::PL_SURNAMES,
    streets: names::PL_STREETS,
    cities: names::PL_CITIES,
    mobile: names::PL_MOBILE,
    freemail: names::PL_FREEMAIL,
    company_words: names::PL_COMPANY_WORDS,
    company_suffixes: names::PL_COMPANY_SUFFIXES,
    company_mailboxes: &["biuro", "kontakt", "info", "sekretariat"],
    tlds: &["pl", "pl", "com.pl", "eu"],
    positions: names::PL_POSITIONS,
    support_subjects: names::PL_SUPPORT_SUBJECTS,
    notes: names::PL_NOTES,
};

static UA: Locale = Locale {
    country: "Україна",
    male: names::UA_MALE,
    female: names::UA_FEMALE,
    surnames: names::UA_SURNAMES,
    streets: names::UA_STREETS,
    cities: names::UA_CITIES,
    mobile: names::UA_MOBILE,
    freemail: names::UA_FREEMAIL,
    company_words: names::UA_COMPANY_WORDS,
    company_suffixes: names::UA_COMPANY_SUFFIXES,
    company_mailboxes: &["office", "info", "sales"],
    tlds: &["com.ua", "com.ua", "ua"],
    positions: names::UA_POSITIONS,
    support_subjects: names::UA_SUPPORT_SUBJECTS,
    notes: names::UA_NOTES,
};

static RO: Locale = Locale {
    country: "România",
    male: names::RO_MALE,
    female: names::RO_FEMALE,
    surnames: names::RO_SURNAMES,
    streets: names::RO_STREETS,
    cities: names::RO_CITIES,
    mobile: names::RO_MOBILE,
    freemail: names::RO_FREEMAIL,
    company_words: names::RO_COMPANY_WORDS,
    company_suffixes: names::RO_COMPANY_SUFFIXES,
    company_mailboxes: &["office", "contact", "info"],
    tlds: &["ro"],
    positions: names::RO_POSITIONS,
    support_subjects: names::RO_SUPPORT_SUBJECTS,
    notes: names::RO_NOTES,
};

static RU: Locale = Locale {
    country: "Россия",
    male: names::RU_MALE,
    female: names::RU_FEMALE,
    surnames: names::RU_SURNAMES,
    streets: names::RU_STREETS,
    cities: names::RU_CITIES,
    mobile: names::RU_MOBILE,
    freemail: names::RU_FREEMAIL,
    company_words: names::RU_COMPANY_WORDS,
    company_suffixes: names::RU_COMPANY_SUFFIXES,
    company_mailboxes: &["info", "office", "sales", "zakaz"],
    tlds: &["ru", "ru", "com"],
    positions: names::RU_POSITIONS,
    support_subjects: names::RU_SUPPORT_SUBJECTS,
    notes: names::RU_NOTES,
};

pub(super) fn locale(lang: Lang) -> &'static Locale {
    match lang {
        Lang::Pl => &PL,
        Lang::Ua => &UA,
        Lang::Ro => &RO,
        Lang::Ru => &RU,
    }
}

/// The feminine form of a surname stored in its masculine form.
pub(super) fn surname(lang: Lang, base: &str, female: bool) -> String {
    if !female {
        return base.to_owned();
    }
    let swap = |from: &str, to: &str| base.strip_suffix(from).map(|stem| format!("{stem}{to}"));
    let feminine = match lang {
        Lang::Pl => swap("ski", "ska")
            .or_else(|| swap("cki", "cka"))
            .or_else(|| swap("dzki", "dzka")),
        Lang::Ua => swap("ський", "ська").or_else(|| swap("цький", "цька")),
        Lang::Ru => swap("ский", "ская")
            .or_else(|| swap("цкий", "цкая"))
            .or_else(|| swap("ой", "ая"))
            .or_else(|| {
                ["ов", "ев", "ёв", "ин", "ын"]
                    .iter()
                    .any(|s| base.ends_with(s))
                    .then(|| format!("{base}а"))
            }),
        Lang::Ro => None,
    };
    feminine.unwrap_or_else(|| base.to_owned())
}

/// Lowercase ASCII letters and digits for `s`: diacritics dropped, Cyrillic transliterated
/// (Ukrainian or Russian rules), everything else left out.
pub(super) fn translit(s: &str, lang: Lang) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let ua = lang == Lang::Ua;
        let mapped = match c {
            'ą' | 'ă' | 'â' | 'а' => "a",
            'ć' => "c",
            'ę' | 'е' | 'ё' | 'э' => "e",
            'ł' | 'л' => "l",
            'ń' | 'н' => "n",
            'ó' | 'о' => "o",
            'ś' | 'ș' | 'ş' | 'с' => "s",
            'ź' | 'ż' | 'з' => "z",
            'î' | 'і' => "i",
            'ț' | 'ţ' | 'т' => "t",
            'б' => "b",
            'в' => "v",
            'г' if ua => "h",
            'г' | 'ґ' => "g",
            'д' => "d",
            'є' => "ye",
            'ж' => "zh",
            'и' if ua => "y",
            'и' => "i",
            'ї' => "yi",
            'й' | 'ы' => "y",
            'к' => "k",
            'м' => "m",
            'п' => "p",
            'р' => "r",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ю' => "yu",
            'я' => "ya",
            _ => "",
        };
        out.push_str(mapped);
    }
    out
}

pub(super) fn postal_code(rng: &mut Rng, lang: Lang, city: &City) -> String {
    let (lo, hi) = city.postal;
    let n = rng.between(i64::from(lo), i64::from(hi));
    match lang {
        Lang::Pl => format!("{:02}-{:03}", n / 1000, n % 1000),
        Lang::Ua => format!("{n:05}"),
        Lang::Ro | Lang::Ru => format!("{n:06}"),
    }
}

pub(super) fn mobile_phone(rng: &mut Rng, lang: Lang) -> String {
    let prefix = pick(rng, locale(lang).mobile);
    match lang {
        Lang::Pl => format!("+48 {prefix} {}", fill_digits(rng, "### ###")),
        Lang::Ua => format!("+380 {prefix} {}", fill_digits(rng, "### ## ##")),
        Lang::Ro => format!("+40 {prefix} {}", fill_digits(rng, "### ###")),
        Lang::Ru => format!("+7 {prefix} {}", fill_digits(rng, "###-##-##")),
    }
}

pub(super) fn street_address(rng: &mut Rng, lang: Lang, with_flat: bool) -> String {
    let street = pick(rng, locale(lang).streets);
    let number = rng.between(1, 180);
    let flat = with_flat.then(|| rng.between(1, 120));
    match (lang, flat) {
        (Lang::Pl, Some(flat)) => format!("{street} {number}/{flat}"),
        (Lang::Pl, None) => format!("{street} {number}"),
        (Lang::Ua, Some(flat)) => format!("{street}, {number}, кв. {flat}"),
        (Lang::Ua, None) => format!("{street}, {number}"),
        (Lang::Ro, Some(flat)) => format!("{street} nr. {number}, ap. {flat}"),
        (Lang::Ro, None) => format!("{street} nr. {number}"),
        (Lang::Ru, Some(flat)) => format!("{street}, д. {number}, кв. {flat}"),
        (Lang::Ru, None) => format!("{street}, д. {number}"),
    }
}

/// A point within a few kilometres of the city centre.
pub(super) fn jitter(rng: &mut Rng, city: &City) -> (f64, f64) {
    let lat = city.lat + (rng.unit() - 0.5) * 0.09;
    let lon = city.lon + (rng.unit() - 0.5) * 0.09 / city.lat.to_radians().cos().max(0.2);
    ((lat * 1e6).round() / 1e6, (lon * 1e6).round() / 1e6)
}

/// A company's display name and the stem of its domain.
pub(super) fn company_name(rng: &mut Rng, lang: Lang) -> (String, String) {
    let loc = locale(lang);
    let w = pick(rng, loc.company_words);
    let s = pick(rng, loc.company_suffixes);
    let person = pick(rng, loc.surnames);
    let (tw, ts, tp) = (translit(w, lang), translit(s, lang), translit(person, lang));
    match (lang, rng.below(6)) {
        (Lang::Pl, 0) => (format!("{person} i Wspólnicy Sp. z o.o."), format!("{tp}-wspolnicy")),
        (Lang::Pl, 1) => (format!("PHU {w}"), format!("phu-{tw}")),
        (Lang::Pl, 2) => (format!("{w} {s} S.A."), format!("{tw}{ts}")),
        (Lang::Pl, 3) => (format!("{person} i Syn Sp. j."), format!("{tp}-i-syn")),
        (Lang::Pl, _) => (format!("{w}-{s} Sp. z o.o."), format!("{tw}-{ts}")),
        (Lang::Ua, 0) => (format!("ПП «{w}»"), tw),
        (Lang::Ua, 1) => (format!("ПрАТ «{w}-{s}»"), format!("{tw}-{ts}")),
        (Lang::Ua, 2) => (format!("ТОВ «{person} і партнери»"), format!("{tp}-partners")),
        (Lang::Ua, _) => (format!("ТОВ «{w}-{s}»"), format!("{tw}-{ts}")),
        (Lang::Ro, 0) => (format!("{person} & Asociații SRL"), format!("{tp}-asociatii")),
        (Lang::Ro, 1) => (format!("{w} {s} SA"), format!("{tw}{ts}")),
        (Lang::Ro, _) => (format!("SC {w} {s} SRL"), format!("{tw}-{ts}")),
        (Lang::Ru, 0) => (format!("АО «{w}»"), tw),
        (Lang::Ru, 1) => (format!("ООО «{w}{}»", s.to_lowercase()), format!("{tw}{ts}")),
        (Lang::Ru, 2) => (format!("ООО «ТД {w}»"), format!("td-{tw}")),
        (Lang::Ru, _) => (format!("ООО «{w}-{s}»"), format!("{tw}-{ts}")),
    }
}

pub(super) fn email_local(rng: &mut Rng, first: &str, last: &str) -> String {
    let initial: String = first.chars().take(1).collect();
    match rng.below(6) {
        0 | 1 => format!("{first}.{last}"),
        2 => format!("{initial}.{last}"),
        3 => format!("{first}{last}"),
        4 => format!("{last}.{first}"),
        _ => format!("{first}_{last}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feminine_surnames() {
        assert_eq!(surname(Lang::Pl, "Kowalski", true), "Kowalska");
        assert_eq!(surname(Lang::Pl, "Czarnecki", true), "Czarnecka");
        assert_eq!(surname(Lang::Pl, "Wójcik", true), "Wójcik");
        assert_eq!(surname(Lang::Ru, "Иванов", true), "Иванова");
        assert_eq!(surname(Lang::Ru, "Вишневский", true), "Вишневская");
        assert_eq!(surname(Lang::Ru, "Толстой", true), "Толстая");
        assert_eq!(surname(Lang::Ua, "Ковальський", true), "Ковальська");
        assert_eq!(surname(Lang::Ua, "Шевченко", true), "Шевченко");
        assert_eq!(surname(Lang::Ro, "Popescu", true), "Popescu");
        assert_eq!(surname(Lang::Pl, "Kowalski", false), "Kowalski");
    }

    #[test]
    fn transliterates_to_ascii() {
        assert_eq!(translit("Łukasz Żółkowski", Lang::Pl), "lukaszzolkowski");
        assert_eq!(translit("Олександр", Lang::Ua), "oleksandr");
        assert_eq!(translit("Ірина", Lang::Ua), "iryna");
        assert_eq!(translit("Дмитрий", Lang::Ru), "dmitriy");
        assert_eq!(translit("Ștefan Țurcanu", Lang::Ro), "stefanturcanu");
        assert_eq!(translit("Мар'яна", Lang::Ua), "maryana");
    }

    #[test]
    fn tables_are_big_enough() {
        for lang in [Lang::Pl, Lang::Ua, Lang::Ro, Lang::Ru] {
            let loc = locale(lang);
            assert!(loc.male.len() >= 40 && loc.female.len() >= 40 && loc.surnames.len() >= 40);
            assert!(!loc.cities.is_empty() && !loc.streets.is_empty() && !loc.mobile.is_empty());
        }
    }
}
