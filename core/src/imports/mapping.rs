//! The mapping of an import: where each column of the file goes, what identifies a contact
//! that already exists, and what to do with one; with suggestions read from the headers.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::Problems;
use crate::fields::{FieldDef, Schema};
use crate::text::fold;
use crate::{Error, Result};

/// Where a column of the file goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Not imported.
    Skip,
    Name,
    /// Joined with the last name, in this order, into the name.
    FirstName,
    LastName,
    /// `person` or `company` (also `osoba`/`firma`, ...: see [`parse_kind`]).
    Kind,
    /// A contact type, by key or label.
    Type,
    Email,
    Phone,
    Position,
    Street,
    City,
    Region,
    Country,
    PostalCode,
    Latitude,
    Longitude,
    /// A person's company, by name: an existing company of that name, or one this import
    /// creates.
    Company,
    /// A person's company, by id.
    CompanyId,
    /// The owner, by e-mail.
    Owner,
    DoNotContact,
    /// An extra field, by key.
    Field(String),
}

/// The targets that take no key, with their names in a mapping and their labels.
pub const CORE_TARGETS: [(Target, &str, &str); 20] = [
    (Target::Skip, "skip", "Skip"),
    (Target::Name, "name", "Name"),
    (Target::FirstName, "first_name", "First name"),
    (Target::LastName, "last_name", "Last name"),
    (Target::Kind, "kind", "Person or company"),
    (Target::Type, "type", "Type"),
    (Target::Email, "email", "E-mail"),
    (Target::Phone, "phone", "Phone"),
    (Target::Position, "position", "Position"),
    (Target::Street, "street", "Street"),
    (Target::City, "city", "City"),
    (Target::Region, "region", "Region"),
    (Target::Country, "country", "Country"),
    (Target::PostalCode, "postal_code", "Postal code"),
    (Target::Latitude, "latitude", "Latitude"),
    (Target::Longitude, "longitude", "Longitude"),
    (Target::Company, "company", "Company (by name)"),
    (Target::CompanyId, "company_id", "Company (by id)"),
    (Target::Owner, "owner", "Owner (e-mail)"),
    (Target::DoNotContact, "do_not_contact", "Do not contact"),
];

impl Target {
    /// The name in a mapping: `email`, `fields.<key>`, `skip`.
    pub fn name(&self) -> String {
        match self {
            Target::Field(key) => format!("fields.{key}"),
            other => CORE_TARGETS
                .iter()
                .find(|(t, _, _)| t == other)
                .map(|(_, name, _)| (*name).to_owned())
                .unwrap_or_default(),
        }
    }

    /// Reads a target's name; `schema` knows the extra fields.
    pub fn parse(name: &str, schema: &Schema) -> std::result::Result<Self, String> {
        let name = name.trim();
        if let Some(key) = name.strip_prefix("fields.") {
            return match schema.field(key) {
                Some(_) => Ok(Target::Field(key.to_owned())),
                None => Err(format!("there is no field `{key}`")),
            };
        }
        if name.is_empty() {
            return Ok(Target::Skip);
        }
        CORE_TARGETS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(t, _, _)| t.clone())
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a column; use one of {}, or fields.<key>",
                    CORE_TARGETS
                        .iter()
                        .filter(|(_, n, _)| !n.is_empty())
                        .map(|(_, n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// What identifies a contact that already exists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MatchBy {
    /// Nothing: every row is a new contact.
    None,
    #[default]
    Email,
    Phone,
    /// An extra field holding an id from elsewhere.
    Field(String),
}

impl MatchBy {
    /// The name in a mapping: `none`, `email`, `phone`, `fields.<key>`.
    pub fn name(&self) -> String {
        match self {
            MatchBy::None => "none".into(),
            MatchBy::Email => "email".into(),
            MatchBy::Phone => "phone".into(),
            MatchBy::Field(key) => format!("fields.{key}"),
        }
    }

    /// What identifies a contact, as the contacts' lookup takes it (`None`: nothing).
    pub fn identity(&self) -> Option<crate::contacts::Identity> {
        use crate::contacts::Identity;
        match self {
            MatchBy::None => None,
            MatchBy::Email => Some(Identity::Email),
            MatchBy::Phone => Some(Identity::Phone),
            MatchBy::Field(key) => Some(Identity::Field(key.clone())),
        }
    }

    /// What identifies a contact, as a report names it: `e-mail`, `phone`, a field's key.
    pub fn what(&self) -> String {
        match self {
            MatchBy::None => String::new(),
            MatchBy::Email => "e-mail".into(),
            MatchBy::Phone => "phone".into(),
            MatchBy::Field(key) => key.clone(),
        }
    }

    /// The column that carries the identity.
    pub fn target(&self) -> Option<Target> {
        match self {
            MatchBy::None => None,
            MatchBy::Email => Some(Target::Email),
            MatchBy::Phone => Some(Target::Phone),
            MatchBy::Field(key) => Some(Target::Field(key.clone())),
        }
    }
}

/// What to do with a row that identifies a contact that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMatch {
    /// Write the row's non-empty cells over the contact (an empty cell changes nothing).
    #[default]
    Update,
    /// Leave the contact as it is.
    Skip,
    /// Create another contact all the same.
    Create,
}

impl OnMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            OnMatch::Update => "update",
            OnMatch::Skip => "skip",
            OnMatch::Create => "create",
        }
    }
}

/// A whole mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// One target per column of the file, in its order.
    pub columns: Vec<Target>,
    pub match_by: MatchBy,
    pub on_match: OnMatch,
    /// The kind of rows without a kind column (or with an empty cell in it).
    pub kind: String,
    /// The type of rows without a type (empty: the base's default type).
    pub type_key: String,
}

impl Mapping {
    /// The suggested mapping of a file with `header` (see [`suggest`]).
    pub fn suggested(header: &[String], schema: &Schema) -> Self {
        let columns = suggest(header, schema);
        let match_by = if columns.contains(&Target::Email) {
            MatchBy::Email
        } else if columns.contains(&Target::Phone) {
            MatchBy::Phone
        } else {
            MatchBy::None
        };
        Mapping {
            columns,
            match_by,
            on_match: OnMatch::Update,
            kind: "person".into(),
            type_key: String::new(),
        }
    }

    /// Reads a mapping sent as JSON for a file with `header`:
    ///
    /// ```json
    /// {"columns": {"E-mail": "email", "Imię": "first_name", "Kod klienta": "fields.client_code"},
    ///  "match_by": "email", "on_match": "update", "kind": "person", "type": "lead"}
    /// ```
    ///
    /// `columns` names headers (or gives a list, one target per column); a header it does
    /// not name is skipped. Every problem is reported at once, each at its path.
    pub fn from_json(value: &Value, header: &[String], schema: &Schema) -> Result<Self> {
        let mut problems = Problems::default();
        let Some(object) = value.as_object() else {
            return Err(Error::invalid("mapping", "must be a JSON object"));
        };
        for key in object.keys() {
            if !["columns", "match_by", "on_match", "kind", "type"].contains(&key.as_str()) {
                problems.add(
                    format!("mapping.{key}"),
                    "is not part of a mapping (columns, match_by, on_match, kind, type)",
                );
            }
        }
        let mut columns = vec![Target::Skip; header.len()];
        match object.get("columns") {
            Some(Value::Object(named)) => {
                for (name, target) in named {
                    let path = format!("mapping.columns.{name}");
                    let Some(index) = header.iter().position(|h| h.trim() == name.trim()) else {
                        problems.add(
                            path,
                            format!(
                                "the file has no column `{name}`; its columns are: {}",
                                header.join(", ")
                            ),
                        );
                        continue;
                    };
                    match target.as_str().map(|t| Target::parse(t, schema)) {
                        Some(Ok(t)) => {
                            if let Some(slot) = columns.get_mut(index) {
                                *slot = t;
                            }
                        }
                        Some(Err(why)) => problems.add(path, why),
                        None => problems.add(path, "must be a column name such as `email` or `fields.<key>`"),
                    }
                }
            }
            Some(Value::Array(list)) => {
                if list.len() != header.len() {
                    problems.add(
                        "mapping.columns",
                        format!("has {} targets for a file of {} columns", list.len(), header.len()),
                    );
                }
                for (index, target) in list.iter().enumerate() {
                    let path = format!("mapping.columns[{index}]");
                    match target.as_str().map(|t| Target::parse(t, schema)) {
                        Some(Ok(t)) => {
                            if let Some(slot) = columns.get_mut(index) {
                                *slot = t;
                            }
                        }
                        Some(Err(why)) => problems.add(path, why),
                        None => problems.add(path, "must be a column name such as `email` or `fields.<key>`"),
                    }
                }
            }
            Some(_) => problems.add(
                "mapping.columns",
                "must map headers to columns ({\"E-mail\": \"email\"}) or list one column per header",
            ),
            None => problems.add("mapping.columns", "is required"),
        }
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim);
        let match_by = match text("match_by") {
            None => MatchBy::Email,
            Some("none") => MatchBy::None,
            Some("email") => MatchBy::Email,
            Some("phone") => MatchBy::Phone,
            Some(other) => match other.strip_prefix("fields.").map(|k| (k, schema.field(k))) {
                Some((key, Some(_))) => MatchBy::Field(key.to_owned()),
                Some((key, None)) => {
                    problems.add("mapping.match_by", format!("there is no field `{key}`"));
                    MatchBy::None
                }
                None => {
                    problems.add(
                        "mapping.match_by",
                        format!("`{other}` is not a way to match; use none, email, phone or fields.<key>"),
                    );
                    MatchBy::None
                }
            },
        };
        let on_match = match text("on_match") {
            None | Some("update") => OnMatch::Update,
            Some("skip") => OnMatch::Skip,
            Some("create") => OnMatch::Create,
            Some(other) => {
                problems.add(
                    "mapping.on_match",
                    format!("`{other}` is not an action; use update, skip or create"),
                );
                OnMatch::Update
            }
        };
        let kind = text("kind").unwrap_or("person").to_owned();
        if parse_kind(&kind).is_none() {
            problems.add("mapping.kind", format!("`{kind}` is not a kind; use person or company"));
        }
        let type_key = text("type").unwrap_or_default().to_owned();
        if !type_key.is_empty() && schema.types.by_key(&type_key).is_none() {
            problems.add("mapping.type", crate::contact_types::unknown_type(&type_key));
        }
        let mapping = Mapping {
            columns,
            match_by,
            on_match,
            kind,
            type_key,
        };
        problems.take(mapping.check(header))?;
        problems.into_result()?;
        Ok(mapping)
    }

    /// Checks that the mapping can make contacts: a name, a column for what identifies a
    /// contact, no core column twice.
    pub fn check(&self, header: &[String]) -> Result<()> {
        let mut problems = Problems::default();
        let mut seen: HashMap<&Target, usize> = HashMap::new();
        for (index, target) in self.columns.iter().enumerate() {
            if *target == Target::Skip {
                continue;
            }
            if let Some(first) = seen.insert(target, index) {
                let name = |i: usize| header.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
                problems.add(
                    format!("mapping.columns.{}", name(index)),
                    format!("`{}` is already the target of `{}`", target.name(), name(first)),
                );
            }
        }
        let has = |t: &Target| self.columns.contains(t);
        if !has(&Target::Name) && !has(&Target::FirstName) && !has(&Target::LastName) {
            problems.add(
                "mapping.columns",
                "no column is the name (map one to name, or to first_name and last_name)",
            );
        }
        if let Some(target) = self.match_by.target()
            && !has(&target)
        {
            problems.add(
                "mapping.match_by",
                format!(
                    "contacts are matched by {}, but no column is mapped to it",
                    self.match_by.name()
                ),
            );
        }
        problems.into_result()
    }

    /// The mapping as JSON, in the form [`Mapping::from_json`] reads.
    pub fn to_json(&self, header: &[String]) -> Value {
        let columns: serde_json::Map<String, Value> = header
            .iter()
            .zip(&self.columns)
            .map(|(h, t)| (h.clone(), Value::String(t.name())))
            .collect();
        serde_json::json!({
            "columns": columns,
            "match_by": self.match_by.name(),
            "on_match": self.on_match.as_str(),
            "kind": self.kind,
            "type": self.type_key,
        })
    }
}

/// Reads a kind as people write it in a file.
pub fn parse_kind(text: &str) -> Option<&'static str> {
    match fold(text.trim()).as_str() {
        "person" | "people" | "individual" | "osoba" | "persoana" | "particular" | "особа" | "лицо" | "физлицо"
        | "контакт" => Some("person"),
        "company"
        | "organisation"
        | "organization"
        | "firma"
        | "firmy"
        | "companie"
        | "компанія"
        | "компания"
        | "организация"
        | "організація" => Some("company"),
        _ => None,
    }
}

/// Header words for each target, in English, Polish, Ukrainian, Russian and Romanian;
/// compared folded ([`fold`]) with spaces, dots, dashes and underscores taken out.
const HEADER_WORDS: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "name",
            "fullname",
            "contact",
            "contactname",
            "imieinazwisko",
            "nazwa",
            "nazwakontaktu",
            "піб",
            "повнеімя",
            "фио",
            "имяфамилия",
            "numecomplet",
            "denumire",
        ],
    ),
    (
        "first_name",
        &[
            "firstname",
            "givenname",
            "forename",
            "imie",
            "імя",
            "имя",
            "prenume",
            "vorname",
        ],
    ),
    (
        "last_name",
        &[
            "lastname",
            "surname",
            "familyname",
            "nazwisko",
            "прізвище",
            "фамилия",
            "nume",
            "nachname",
        ],
    ),
    ("kind", &["kind", "contactkind", "rodzaj", "вид", "tipcontact"]),
    (
        "type",
        &["type", "contacttype", "typ", "tip", "тип", "типконтакту", "типконтакта"],
    ),
    (
        "email",
        &[
            "email",
            "mail",
            "emailaddress",
            "adresemail",
            "електроннапошта",
            "пошта",
            "почта",
            "электроннаяпочта",
            "элпочта",
            "елпошта",
            "adresadeemail",
            "adresaemail",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "telephone",
            "tel",
            "mobile",
            "phonenumber",
            "telefon",
            "telefonkomorkowy",
            "numertelefonu",
            "komorka",
            "телефон",
            "номертелефону",
            "номертелефона",
            "мобільний",
            "мобильный",
            "numardetelefon",
        ],
    ),
    (
        "position",
        &[
            "position",
            "title",
            "jobtitle",
            "role",
            "stanowisko",
            "посада",
            "должность",
            "functie",
            "post",
        ],
    ),
    (
        "company",
        &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "account",
            "employer",
            "firma",
            "nazwafirmy",
            "pracodawca",
            "компанія",
            "компания",
            "организация",
            "організація",
            "companie",
            "societate",
        ],
    ),
    ("company_id", &["companyid", "idfirmy"]),
    (
        "street",
        &[
            "street",
            "address",
            "streetaddress",
            "ulica",
            "adresulica",
            "вулиця",
            "адреса",
            "улица",
            "адрес",
            "strada",
            "adresa",
        ],
    ),
    (
        "city",
        &[
            "city",
            "town",
            "miasto",
            "miejscowosc",
            "місто",
            "город",
            "oras",
            "localitate",
        ],
    ),
    (
        "region",
        &[
            "region",
            "state",
            "province",
            "county",
            "wojewodztwo",
            "область",
            "регион",
            "регіон",
            "judet",
        ],
    ),
    ("country", &["country", "kraj", "panstwo", "країна", "страна", "tara"]),
    (
        "postal_code",
        &[
            "postalcode",
            "postcode",
            "zip",
            "zipcode",
            "kodpocztowy",
            "поштовийіндекс",
            "індекс",
            "индекс",
            "почтовыйиндекс",
            "codpostal",
        ],
    ),
    ("latitude", &["latitude", "lat", "szerokosc", "широта", "latitudine"]),
    (
        "longitude",
        &[
            "longitude",
            "lon",
            "lng",
            "dlugosc",
            "довгота",
            "долгота",
            "longitudine",
        ],
    ),
    (
        "owner",
        &[
            "owner",
            "contactowner",
            "opiekun",
            "wlasciciel",
            "відповідальний",
            "ответственный",
            "владелец",
            "responsabil",
        ],
    ),
    (
        "do_not_contact",
        &[
            "donotcontact",
            "optout",
            "unsubscribed",
            "niekontaktowac",
            "rezygnacja",
            "неконтактувати",
            "неконтактировать",
            "nucontacta",
        ],
    ),
];

/// A header in the form [`HEADER_WORDS`] holds.
fn header_key(header: &str) -> String {
    fold(header).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The suggested target of each column: a core column whose words (in five languages)
/// match the header, else an extra field whose key or label matches it, else skip. Each
/// target is suggested once, for the first column that matches it.
pub fn suggest(header: &[String], schema: &Schema) -> Vec<Target> {
    let mut taken: Vec<Target> = Vec::new();
    header
        .iter()
        .map(|h| {
            let key = header_key(h);
            let target = suggest_one(&key, &schema.fields).filter(|t| !taken.contains(t));
            match target {
                Some(t) => {
                    taken.push(t.clone());
                    t
                }
                None => Target::Skip,
            }
        })
        .collect()
}

fn suggest_one(key: &str, fields: &[FieldDef]) -> Option<Target> {
    if key.is_empty() {
        return None;
    }
    // An extra field named exactly so wins over a core column's word ("status").
    if let Some(field) = fields
        .iter()
        .find(|f| header_key(&f.key) == key || header_key(&f.label) == key)
    {
        return Some(Target::Field(field.key.clone()));
    }
    HEADER_WORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| header_key(w) == key))
        .and_then(|(name, _)| CORE_TARGETS.iter().find(|(_, n, _)| n == name))
        .map(|(t, _, _)| t.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn headers_in_five_languages_are_suggested() {
        let schema = Schema::default();
        let got = suggest(
            &header(&[
                "Imię",
                "Nazwisko",
                "E-mail",
                "Telefon",
                "Firma",
                "Miasto",
                "Kod pocztowy",
                "Uwagi",
            ]),
            &schema,
        );
        assert_eq!(
            got,
            vec![
                Target::FirstName,
                Target::LastName,
                Target::Email,
                Target::Phone,
                Target::Company,
                Target::City,
                Target::PostalCode,
                Target::Skip
            ]
        );
        let got = suggest(&header(&["Ім'я", "Прізвище", "Телефон", "Місто", "Компанія"]), &schema);
        assert_eq!(
            got,
            vec![
                Target::FirstName,
                Target::LastName,
                Target::Phone,
                Target::City,
                Target::Company
            ]
        );
        let got = suggest(&header(&["Фамилия", "Имя", "Эл. почта", "Город", "Должность"]), &schema);
        assert_eq!(
            got,
            vec![
                Target::LastName,
                Target::FirstName,
                Target::Email,
                Target::City,
                Target::Position
            ]
        );
        let got = suggest(
            &header(&["Prenume", "Nume", "Oraș", "Județ", "Țară", "Cod poștal"]),
            &schema,
        );
        assert_eq!(
            got,
            vec![
                Target::FirstName,
                Target::LastName,
                Target::City,
                Target::Region,
                Target::Country,
                Target::PostalCode
            ]
        );
        // One column per target: the second "Email" is left to the person mapping.
        assert_eq!(
            suggest(&header(&["Email", "E-mail"]), &schema),
            vec![Target::Email, Target::Skip]
        );
    }
}
