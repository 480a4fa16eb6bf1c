//! The built-in gazetteer: the cities `within_distance` knows by name.
//!
//! They are the cities of the demo data (`core/src/demo/names.rs`: Polish, Ukrainian,
//! Romanian and Russian cities, each at its centre), under their own name and, for those
//! written in Cyrillic or better known by an exonym, under common Latin names ("Kyiv",
//! "Moscow", "Warsaw"). Lookup is case- and accent-insensitive and ignores punctuation:
//! "krakow" finds Kraków, "cluj napoca" Cluj-Napoca, "KYIV" Київ.

/// A known city: its name, other names it is found by, and its centre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub lat: f64,
    pub lon: f64,
}

const fn place(name: &'static str, aliases: &'static [&'static str], lat: f64, lon: f64) -> Place {
    Place {
        name,
        aliases,
        lat,
        lon,
    }
}

/// Every known city.
pub const PLACES: &[Place] = &[
    // Poland
    place("Warszawa", &["Warsaw"], 52.2297, 21.0122),
    place("Kraków", &["Cracow"], 50.0647, 19.9450),
    place("Łódź", &[], 51.7592, 19.4560),
    place("Wrocław", &[], 51.1079, 17.0385),
    place("Poznań", &[], 52.4064, 16.9252),
    place("Gdańsk", &[], 54.3520, 18.6466),
    place("Szczecin", &[], 53.4285, 14.5528),
    place("Bydgoszcz", &[], 53.1235, 18.0084),
    place("Lublin", &[], 51.2465, 22.5684),
    place("Białystok", &[], 53.1325, 23.1688),
    place("Katowice", &[], 50.2649, 19.0238),
    place("Gdynia", &[], 54.5189, 18.5305),
    place("Częstochowa", &[], 50.8118, 19.1203),
    place("Radom", &[], 51.4027, 21.1471),
    place("Rzeszów", &[], 50.0412, 21.9991),
    place("Toruń", &[], 53.0138, 18.5984),
    place("Kielce", &[], 50.8661, 20.6286),
    place("Olsztyn", &[], 53.7784, 20.4801),
    place("Opole", &[], 50.6751, 17.9213),
    place("Zielona Góra", &[], 51.9356, 15.5062),
    // Ukraine
    place("Київ", &["Kyiv", "Kiev", "Kijów"], 50.4501, 30.5234),
    place("Харків", &["Kharkiv", "Kharkov"], 49.9935, 36.2304),
    place("Одеса", &["Odesa", "Odessa"], 46.4825, 30.7233),
    place("Дніпро", &["Dnipro"], 48.4647, 35.0462),
    place("Львів", &["Lviv", "Lvov", "Lwów"], 49.8397, 24.0297),
    place("Запоріжжя", &["Zaporizhzhia"], 47.8388, 35.1396),
    place("Вінниця", &["Vinnytsia"], 49.2331, 28.4682),
    place("Івано-Франківськ", &["Ivano-Frankivsk"], 48.9226, 24.7111),
    place("Тернопіль", &["Ternopil"], 49.5535, 25.5948),
    place("Чернівці", &["Chernivtsi"], 48.2921, 25.9358),
    place("Полтава", &["Poltava"], 49.5883, 34.5514),
    place("Ужгород", &["Uzhhorod"], 48.6208, 22.2879),
    place("Луцьк", &["Lutsk"], 50.7472, 25.3254),
    place("Житомир", &["Zhytomyr"], 50.2547, 28.6587),
    place("Черкаси", &["Cherkasy"], 49.4444, 32.0598),
    place("Миколаїв", &["Mykolaiv"], 46.9750, 31.9946),
    place("Рівне", &["Rivne"], 50.6199, 26.2516),
    // Romania
    place("București", &["Bucharest"], 44.4268, 26.1025),
    place("Cluj-Napoca", &[], 46.7712, 23.6236),
    place("Timișoara", &[], 45.7489, 21.2087),
    place("Iași", &[], 47.1585, 27.6014),
    place("Constanța", &[], 44.1598, 28.6348),
    place("Craiova", &[], 44.3302, 23.7949),
    place("Brașov", &[], 45.6427, 25.5887),
    place("Galați", &[], 45.4353, 28.0080),
    place("Ploiești", &[], 44.9367, 26.0129),
    place("Oradea", &[], 47.0465, 21.9189),
    place("Sibiu", &[], 45.7983, 24.1256),
    place("Arad", &[], 46.1866, 21.3123),
    place("Pitești", &[], 44.8565, 24.8692),
    place("Bacău", &[], 46.5670, 26.9146),
    place("Suceava", &[], 47.6635, 26.2732),
    place("Târgu Mureș", &[], 46.5425, 24.5575),
    place("Baia Mare", &[], 47.6567, 23.5850),
    // Russia
    place("Москва", &["Moscow", "Moskva"], 55.7558, 37.6173),
    place(
        "Санкт-Петербург",
        &["Saint Petersburg", "St. Petersburg", "Sankt-Peterburg"],
        59.9343,
        30.3351,
    ),
    place("Новосибирск", &["Novosibirsk"], 55.0084, 82.9357),
    place("Екатеринбург", &["Yekaterinburg", "Ekaterinburg"], 56.8389, 60.6057),
    place("Казань", &["Kazan"], 55.7887, 49.1221),
    place("Нижний Новгород", &["Nizhny Novgorod"], 56.2965, 43.9361),
    place("Самара", &["Samara"], 53.1959, 50.1002),
    place("Ростов-на-Дону", &["Rostov-on-Don"], 47.2357, 39.7015),
    place("Краснодар", &["Krasnodar"], 45.0355, 38.9753),
    place("Воронеж", &["Voronezh"], 51.6720, 39.1843),
    place("Пермь", &["Perm"], 58.0105, 56.2502),
    place("Уфа", &["Ufa"], 54.7388, 55.9721),
    place("Челябинск", &["Chelyabinsk"], 55.1644, 61.4368),
    place("Омск", &["Omsk"], 54.9885, 73.3242),
    place("Красноярск", &["Krasnoyarsk"], 56.0153, 92.8932),
    place("Калининград", &["Kaliningrad"], 54.7104, 20.4522),
    place("Ярославль", &["Yaroslavl"], 57.6261, 39.8845),
];

/// The city called `name` (any of its names, folded: see [`fold`]).
pub fn find(name: &str) -> Option<&'static Place> {
    let wanted = fold(name);
    if wanted.is_empty() {
        return None;
    }
    PLACES.iter().find(|place| {
        std::iter::once(place.name)
            .chain(place.aliases.iter().copied())
            .any(|n| fold(n) == wanted)
    })
}

/// A few known cities for an error message: those that start like `name`, or else the
/// first ones of the list.
pub fn suggestions(name: &str, count: usize) -> Vec<&'static str> {
    let wanted = fold(name);
    let first: String = wanted.chars().take(1).collect();
    let alike: Vec<&'static str> = PLACES
        .iter()
        .filter(|place| !first.is_empty() && fold(place.name).starts_with(&first))
        .map(|place| place.name)
        .take(count)
        .collect();
    if alike.is_empty() {
        PLACES.iter().map(|place| place.name).take(count).collect()
    } else {
        alike
    }
}

/// `name` for comparison: lower case, without diacritics (the letters of the gazetteer's
/// languages and the common Latin ones), every run of other characters than letters and
/// digits one space, trimmed.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if !c.is_alphanumeric() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        match base(c) {
            Some(plain) => out.push_str(plain),
            None => out.push(c),
        }
    }
    out
}

/// The letter without its diacritic, for the accented lower-case letters that have one.
fn base(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' | 'ġ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ķ' => "k",
        'ł' | 'ľ' | 'ĺ' | 'ļ' => "l",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ŕ' | 'ř' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        // Cyrillic letters that are a base letter with a diacritic.
        'ё' => "е",
        'й' => "и",
        'ї' => "і",
        'ў' => "у",
        _ => return None,
    })
}
