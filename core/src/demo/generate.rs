//! Generating companies and people: names, addresses, phones and e-mail addresses (kept
//! unique), types, owners and dates, each as a [`ContactRow`]; companies stay in memory
//! (id and a few attributes) for the people who work there.
//!
//! [`Generator`] holds the state of a run; its activity statements are in
//! [`super::activities`].

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use sea_orm::sea_query::InsertStatement;

use super::DemoOptions;
use super::fields::{self, Subject};
use super::insert::{build_err, insert_into};
use super::locale::{
    LANGS, Lang, company_name, email_local, jitter, locale, mobile_phone, postal_code, street_address, surname,
    translit,
};
use super::names::{self, City};
use super::plan::{Category, Plan};
use super::rng::{Rng, STREAM_COUNTS, STREAM_MAIN, fill_digits, pick, pick_city, pick_weighted};
use super::row::{ContactRow, contact_columns};

/// A company kept in memory for the people who work there.
pub(super) struct Company {
    pub(super) id: i64,
    lang: Lang,
    city: City,
    domain: String,
    type_id: i64,
    created: i64,
    owner: Option<i64>,
}

/// What a person's activities depend on.
pub(super) struct PersonCtx {
    /// The language of the country the person lives in (notes, support requests).
    pub(super) lang: Lang,
    pub(super) category: Category,
    pub(super) created: i64,
    pub(super) has_email: bool,
    pub(super) has_phone: bool,
    pub(super) do_not_contact: bool,
}

/// Seconds in a day.
pub(super) const DAY: i64 = 86_400;

/// The state of one run: the random streams, the plan, the companies made so far and the
/// addresses handed out.
pub(super) struct Generator {
    /// Every choice but the activity counts.
    pub(super) rng: Rng,
    /// The activity counts only, so [`super::activities`] can draw them all up front.
    pub(super) counts: Rng,
    pub(super) plan: Plan,
    pub(super) now: i64,
    owners: Vec<i64>,
    pub(super) average_activities: usize,
    pub(super) companies: Vec<Company>,
    /// Fingerprints of the e-mail addresses and company domains handed out, to keep them
    /// unique (8 bytes each, not the strings).
    taken: HashSet<u64>,
}

/// FNV-1a, for the uniqueness fingerprints.
fn fingerprint(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Generator {
    pub(super) fn new(opts: &DemoOptions, now: DateTime<Utc>, plan: Plan) -> Self {
        Generator {
            rng: Rng::new(opts.seed, STREAM_MAIN),
            counts: Rng::new(opts.seed, STREAM_COUNTS),
            plan,
            now: now.timestamp(),
            owners: opts.owner_ids.clone(),
            average_activities: opts.activities_per_contact,
            companies: Vec::with_capacity(opts.companies),
            taken: HashSet::new(),
        }
    }

    /// `local@domain`, with a number added to `local` if the address is taken.
    fn unique_email(&mut self, local: &str, domain: &str) -> String {
        let mut email = format!("{local}@{domain}");
        for attempt in 1..=20 {
            if self.taken.insert(fingerprint(&email)) {
                break;
            }
            let n = self.rng.between(2, 9 * attempt * attempt + 9);
            email = format!("{local}{n}@{domain}");
        }
        email
    }

    /// The next `n` people as one INSERT, with what their activities need.
    pub(super) fn people(&mut self, n: usize) -> Result<(InsertStatement, Vec<PersonCtx>), DbErr> {
        let mut stmt = insert_into("contacts", &contact_columns());
        let mut contexts = Vec::with_capacity(n);
        for _ in 0..n {
            let (row, ctx) = self.person();
            stmt.values(row.into_exprs(&self.plan.fold)).map_err(build_err)?;
            contexts.push(ctx);
        }
        Ok((stmt, contexts))
    }

    fn time(&self, secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs.min(self.now), 0).unwrap_or_default()
    }

    fn owner(&mut self) -> Option<i64> {
        (!self.owners.is_empty()).then(|| pick(&mut self.rng, &self.owners))
    }

    /// Created within the three years before now (not before `not_before`), updated since.
    fn created_updated(&mut self, not_before: i64) -> (i64, i64) {
        let mut created = self.rng.between(self.now - 3 * 365 * DAY, self.now);
        if created < not_before {
            created = self.rng.between(not_before, self.now);
        }
        let updated = if self.rng.chance(0.6) {
            self.rng.between(created, self.now)
        } else {
            created
        };
        (created, updated)
    }

    pub(super) fn company(&mut self) -> (ContactRow, Company) {
        let rng = &mut self.rng;
        let lang = pick_weighted(rng, LANGS);
        let loc = locale(lang);
        let city = pick_city(rng, loc.cities);
        let (name, mut stem) = company_name(rng, lang);
        let tld = pick(rng, loc.tlds);
        // Same-named companies are different firms: give each its own domain.
        for attempt in 0..20 {
            if self.taken.insert(fingerprint(&format!("@{stem}.{tld}"))) {
                break;
            }
            stem = if attempt == 0 {
                format!("{stem}-{}", translit(city.name, lang))
            } else {
                let base = stem.trim_end_matches(|c: char| c.is_ascii_digit());
                format!("{base}{}", rng.between(2, 999))
            };
        }
        let domain = format!("{stem}.{tld}");
        let type_id = pick_weighted(rng, &self.plan.company_types);
        let mailbox = rng.chance(0.85).then(|| pick(rng, loc.company_mailboxes));
        let email = mailbox.map(|m| format!("{m}@{domain}"));
        let phone = rng.chance(0.9).then(|| fill_digits(rng, city.landline));
        let street = rng.chance(0.95).then(|| street_address(rng, lang, false));
        let postal_code = Some(postal_code(rng, lang, &city));
        let point = jitter(rng, &city);
        let do_not_contact = rng.chance(0.01);
        let owner = self.owner();
        let (created, updated) = self.created_updated(i64::MIN);
        let fields = fields::values(
            &mut self.rng,
            &self.plan,
            self.now,
            type_id,
            false,
            &Subject::Company {
                slug: &stem,
                domain: &domain,
                lang,
            },
        );
        let row = ContactRow {
            kind: "company",
            type_id,
            name,
            email,
            phone,
            position: None,
            company_id: None,
            street,
            city,
            country: loc.country,
            postal_code,
            point,
            owner_id: owner,
            do_not_contact,
            fields,
            created: self.time(created),
            updated: self.time(updated),
        };
        (
            row,
            Company {
                id: 0,
                lang,
                city,
                domain,
                type_id,
                created,
                owner,
            },
        )
    }

    fn person(&mut self) -> (ContactRow, PersonCtx) {
        let company_index =
            (!self.companies.is_empty() && self.rng.chance(0.8)).then(|| self.rng.index(self.companies.len()));
        let company = company_index.and_then(|i| self.companies.get(i));
        let rng = &mut self.rng;

        let type_id = match company {
            Some(c) => match self.plan.person_types_at.get(&c.type_id) {
                Some(dist) => pick_weighted(rng, dist),
                None => pick_weighted(rng, &self.plan.person_types_free),
            },
            None => pick_weighted(rng, &self.plan.person_types_free),
        };
        let category = self.plan.categories.get(&type_id).copied().unwrap_or_default();
        // Names follow `lang`; the address, phone and job title follow the country the
        // person lives in, which is their company's (a Ukrainian working in Poland).
        let lang = match company {
            Some(c) if rng.chance(0.95) => c.lang,
            _ => pick_weighted(rng, LANGS),
        };
        let loc = locale(lang);
        let place_lang = company.map_or(lang, |c| c.lang);
        let place = locale(place_lang);
        let female = rng.chance(0.5);
        let first = pick(rng, if female { loc.female } else { loc.male });
        let last = surname(lang, pick(rng, loc.surnames), female);
        let (first_ascii, last_ascii) = (translit(first, lang), translit(&last, lang));

        let address = rng.chance(0.92).then(|| {
            let local = email_local(rng, &first_ascii, &last_ascii);
            match company {
                Some(c) if rng.chance(0.85) => (local, c.domain.clone()),
                _ => {
                    let suffix = if rng.chance(0.6) {
                        match rng.below(3) {
                            0 => rng.between(1960, 2003).to_string(),
                            1 => format!("{:02}", rng.between(0, 99)),
                            _ => rng.between(100, 999).to_string(),
                        }
                    } else {
                        String::new()
                    };
                    (format!("{local}{suffix}"), pick(rng, loc.freemail).to_owned())
                }
            }
        });
        let phone = rng.chance(0.82).then(|| mobile_phone(rng, place_lang));
        let has_position = match (company, category) {
            (Some(_), _) => rng.chance(0.9),
            (None, Category::Employee) => rng.chance(0.8),
            (None, _) => rng.chance(0.15),
        };
        let position = has_position
            .then(|| {
                if rng.chance(0.25) {
                    pick(rng, names::EN_POSITIONS)
                } else {
                    pick(rng, place.positions)
                }
            })
            .map(str::to_owned);

        let city = match company {
            Some(c) if rng.chance(0.75) => c.city,
            _ => pick_city(rng, place.cities),
        };
        let street_chance = if company.is_some() { 0.4 } else { 0.85 };
        let street = rng.chance(street_chance).then(|| {
            let with_flat = rng.chance(0.6);
            street_address(rng, place_lang, with_flat)
        });
        let postal_code = rng.chance(0.9).then(|| postal_code(rng, place_lang, &city));
        let point = jitter(rng, &city);
        let do_not_contact = rng.chance(0.03);

        let company_id = company.map(|c| c.id);
        let company_owner = company.and_then(|c| c.owner);
        let not_before = company.map_or(i64::MIN, |c| c.created);
        let email = address.map(|(local, domain)| self.unique_email(&local, &domain));
        let owner = match company_owner {
            Some(owner) if self.rng.chance(0.7) => Some(owner),
            _ => self.owner(),
        };
        let (created, updated) = self.created_updated(not_before);
        let fields = fields::values(
            &mut self.rng,
            &self.plan,
            self.now,
            type_id,
            true,
            &Subject::Person {
                first: &first_ascii,
                last: &last_ascii,
                lang: place_lang,
            },
        );

        let ctx = PersonCtx {
            lang: place_lang,
            category,
            created,
            has_email: email.is_some(),
            has_phone: phone.is_some(),
            do_not_contact,
        };
        let row = ContactRow {
            kind: "person",
            type_id,
            name: format!("{first} {last}"),
            email,
            phone,
            position,
            company_id,
            street,
            city,
            country: place.country,
            postal_code,
            point,
            owner_id: owner,
            do_not_contact,
            fields,
            created: self.time(created),
            updated: self.time(updated),
        };
        (row, ctx)
    }
}
