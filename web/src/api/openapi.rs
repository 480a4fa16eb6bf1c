//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{
    activities, contact_types, contacts, dto, fields, imports, jobs, outbox, plugins, scoring, segment_size, segments,
    settings, tasks, token, users, views,
};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Kartoteka API", version = "1", description = "Contacts, types, extra fields, activities, segments, plugins, bulk actions and their jobs, tasks, the e-mail outbox, scoring models, users, imports of contacts from CSV and Excel files, saved views and their export, and card layouts. Bearer tokens from POST /api/v1/auth/token. Errors are {\"error\": {\"code\", \"message\", \"path\"?}}."),
    paths(
        token::create,
        contacts::list, contacts::count, contacts::filter_fields, contacts::get_one, contacts::create, contacts::update, contacts::delete,
        activities::create, activities::list, activities::list_for_contact,
        fields::list, fields::get_one, fields::create, fields::update, fields::delete,
        contact_types::list, contact_types::get_one, contact_types::create, contact_types::update, contact_types::delete,
        plugins::list, plugins::get_one, plugins::upload, plugins::approve, plugins::enable, plugins::disable,
        plugins::remove, plugins::try_operator, plugins::operators,
        segments::create, segments::list, segments::get_one, segments::update, segments::delete,
        segments::members, segments::add_members, segments::remove_members, segments::members_csv,
        segment_size::preview, segment_size::history,
        segments::for_contact,
        settings::get, settings::put,
        jobs::actions, jobs::start_on_segment, jobs::start_on_contacts, jobs::list, jobs::get_one, jobs::cancel,
        jobs::resume, jobs::outcomes, jobs::effects,
        tasks::list, tasks::create, tasks::get_one, tasks::update,
        outbox::list, outbox::get_one, outbox::campaign, outbox::preview, outbox::test_message,
        scoring::list, scoring::create, scoring::get_one, scoring::update, scoring::delete, scoring::rescore,
        scoring::preview, scoring::start_preview, scoring::preview_run, scoring::criteria, scoring::for_contact,
        imports::upload, imports::list, imports::get_one, imports::start, imports::outcomes,
        users::list, users::create, users::get_one, users::update, users::reset_password, users::change_own_password,
        views::list, views::create, views::get_one, views::update, views::delete, views::export,
        views::get_layout, views::put_layout, views::delete_layout,
    ),
    components(schemas(contacts::CountOut, fields::FieldUpdated, fields::ConversionOut, fields::ConversionFailure, dto::ContactOut, dto::ContactCreate, dto::ContactUpdate, dto::ContactList, dto::FieldDto,
        dto::FieldUpdate, dto::ContactTypeDto, dto::ContactTypeCreate, dto::ContactTypeUpdate, dto::ActivityOut,
        dto::ActivityIn, dto::TokenRequest, dto::TokenResponse, dto::ErrorBody, dto::ErrorDetail,
        plugins::PluginOut, plugins::OfferOut, plugins::LogLineOut, plugins::UploadOut, plugins::OperatorOut,
        plugins::TryIn, plugins::TryField, plugins::TryOut, plugins::ResidualOut,
        segment_size::PreviewIn, segment_size::PreviewOut, segment_size::ChangeOut, segment_size::NamedOut,
        segment_size::SizePointOut,
        segments::SegmentOut, segments::SegmentCreate, segments::SegmentUpdate, segments::MembersChange, segments::MembersAdd,
        segments::MembersChanged, segments::SegmentExplanationOut, segments::ExplainNodeOut,
        settings::SettingsOut, settings::SettingsIn,
        jobs::ActionOut, jobs::SegmentActionIn, jobs::ContactsActionIn, jobs::JobOut, jobs::JobList, jobs::OutcomeOut,
        jobs::OutcomeList, jobs::EffectOut,
        tasks::TaskOut, tasks::TaskList, tasks::TaskCreate, tasks::TaskUpdate,
        outbox::MessageOut, outbox::MessageList, outbox::MessageDetail, outbox::CampaignOut, outbox::CampaignPointOut, outbox::ActionTryIn, outbox::ActionPreviewOut, outbox::TestMessageOut,
        scoring::ScoringModelOut, scoring::ScoringModelCreate, scoring::ScoringModelUpdate, scoring::ScoringPreviewIn,
        scoring::BandCountOut, scoring::ScoredContactOut, scoring::BandMoveOut, scoring::ScoringPreviewOut, scoring::ScoringPreviewRunOut,
        scoring::CriterionOut, scoring::ParameterPointsOut, scoring::ContactScoreOut, scoring::BandChangeOut,
        scoring::ContactScoresOut, dto::ScoreSummary,
        imports::ImportOut, imports::UploadedOut, imports::TargetOut, imports::RunIn,
        users::UserOut, users::UserCreate, users::UserUpdate, users::PasswordReset, users::OwnPasswordChange, users::PasswordChanged,
        views::ViewOut, views::ViewWrite, views::LayoutOut, views::SectionDto, views::LayoutWrite)),
    modifiers(&BearerAuth, &CommonResponses),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers any operation may give, added where an operation doesn't describe them
/// itself: 400 (a malformed path, query or body), 401 (no or a bad token; on
/// `POST /auth/token` wrong credentials) and 414 (a request line over 64 KiB, see
/// [`crate::listener`]), all with the error body.
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"))))
                            .build(),
                    )
                    .build(),
            )
        };
        let common = [
            (
                "400",
                "the path, query or body is malformed or invalid; `path` says where",
            ),
            ("401", "no token, or an unknown or expired one"),
            ("414", "the request line is too long"),
        ];
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                for (status, description) in common {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description));
                }
            }
        }
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use kartoteka_core::contacts::CoreColumn;

    use super::*;

    /// The property names of schema `name` in the document.
    fn properties(name: &str) -> Vec<String> {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document as JSON");
        doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {name}"))
            .keys()
            .cloned()
            .collect()
    }

    /// The contact shapes are written by hand (the wire format is explicit); the column
    /// table binds them: every core column is read, every written one can be sent.
    #[test]
    fn the_contact_shapes_carry_the_column_table() {
        let out = properties("ContactOut");
        let create = properties("ContactCreate");
        let update = properties("ContactUpdate");
        for column in CoreColumn::ALL {
            let key = column.key().to_owned();
            assert!(out.contains(&key), "ContactOut lacks {key}");
            if column.spec().written {
                assert!(create.contains(&key), "ContactCreate lacks {key}");
                assert!(update.contains(&key), "ContactUpdate lacks {key}");
            } else {
                assert!(
                    !create.contains(&key),
                    "ContactCreate takes {key}, which the system keeps"
                );
            }
        }
    }
}
