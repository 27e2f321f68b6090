//! The initial schema: connections, validations, outbox, audit, secret purges.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Connections::Table)
                .col(uuid(Connections::Id).primary_key())
                .col(string_len(Connections::Workspace, 63))
                .col(string_len(Connections::Tag, 63))
                .col(string_len(Connections::Provider, 32))
                .col(string_len(Connections::DisplayName, 128))
                .col(text(Connections::Description))
                .col(text(Connections::Scopes))
                .col(string_len(Connections::Status, 16))
                .col(string_len_null(Connections::ExternalId, 64))
                .col(big_integer(Connections::Revision).default(0))
                .col(big_integer(Connections::ActiveRevision).default(0))
                .col(text(Connections::CredentialFields))
                .col(text(Connections::SecretFieldsSet))
                .col(timestamp_with_time_zone_null(Connections::CredentialsUpdateTime))
                .col(uuid_null(Connections::LastValidationId))
                .col(big_integer(Connections::Version))
                .col(string_len_null(Connections::RequestId, 128))
                .col(string_len_null(Connections::RequestFingerprint, 64))
                .col(timestamp_with_time_zone(Connections::CreateTime))
                .col(timestamp_with_time_zone(Connections::UpdateTime))
                .to_owned(),
        )
        .await?;
        // The tag is unique within a workspace; this index also serves every
        // lookup and the tag-ordered list pages.
        m.create_index(
            Index::create()
                .name("connections_workspace_tag")
                .table(Connections::Table)
                .col(Connections::Workspace)
                .col(Connections::Tag)
                .unique()
                .to_owned(),
        )
        .await?;
        // NULLs are distinct in both engines, so creates without a key coexist.
        m.create_index(
            Index::create()
                .name("connections_workspace_request_id")
                .table(Connections::Table)
                .col(Connections::Workspace)
                .col(Connections::RequestId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Validations::Table)
                .col(uuid(Validations::Id).primary_key())
                .col(uuid(Validations::ConnectionId))
                .col(string_len(Validations::Workspace, 63))
                .col(big_integer(Validations::Revision))
                .col(string_len(Validations::State, 16))
                .col(integer(Validations::Attempts).default(0))
                .col(timestamp_with_time_zone(Validations::CreateTime))
                .col(timestamp_with_time_zone_null(Validations::StartTime))
                .col(timestamp_with_time_zone_null(Validations::EndTime))
                .col(text_null(Validations::Error))
                .col(text(Validations::ScopeChecks))
                .col(text(Validations::Identity))
                .col(text(Validations::Warnings))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("validations_connection")
                .table(Validations::Table)
                .col(Validations::ConnectionId)
                .col(Validations::CreateTime)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(uuid(Outbox::Id).primary_key())
                .col(string_len(Outbox::Kind, 16))
                .col(string_len(Outbox::RoutingKey, 255))
                .col(text(Outbox::Payload))
                .col(string_len_null(Outbox::Traceparent, 64))
                .col(timestamp_with_time_zone(Outbox::CreateTime))
                .col(timestamp_with_time_zone_null(Outbox::SentTime))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_unsent")
                .table(Outbox::Table)
                .col(Outbox::SentTime)
                .col(Outbox::CreateTime)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Audit::Table)
                .col(uuid(Audit::Id).primary_key())
                .col(string_len(Audit::Workspace, 63))
                .col(string_len(Audit::Actor, 255))
                .col(string_len(Audit::Action, 64))
                .col(string_len(Audit::Tag, 63))
                .col(uuid_null(Audit::ConnectionId))
                .col(string_len_null(Audit::RequestId, 128))
                .col(string_len(Audit::Outcome, 32))
                .col(text(Audit::Details))
                .col(timestamp_with_time_zone(Audit::Time))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_workspace_time")
                .table(Audit::Table)
                .col(Audit::Workspace)
                .col(Audit::Time)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SecretPurges::Table)
                .col(uuid(SecretPurges::ConnectionId).primary_key())
                .col(string_len(SecretPurges::Workspace, 63))
                .col(integer(SecretPurges::Attempts).default(0))
                .col(text_null(SecretPurges::LastError))
                .col(timestamp_with_time_zone(SecretPurges::CreateTime))
                .col(timestamp_with_time_zone(SecretPurges::NextAttemptTime))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
    Workspace,
    Tag,
    Provider,
    DisplayName,
    Description,
    Scopes,
    Status,
    ExternalId,
    Revision,
    ActiveRevision,
    CredentialFields,
    SecretFieldsSet,
    CredentialsUpdateTime,
    LastValidationId,
    Version,
    RequestId,
    RequestFingerprint,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum Validations {
    Table,
    Id,
    ConnectionId,
    Workspace,
    Revision,
    State,
    Attempts,
    CreateTime,
    StartTime,
    EndTime,
    Error,
    ScopeChecks,
    Identity,
    Warnings,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    RoutingKey,
    Payload,
    Traceparent,
    CreateTime,
    SentTime,
}

#[derive(DeriveIden)]
enum Audit {
    Table,
    Id,
    Workspace,
    Actor,
    Action,
    Tag,
    ConnectionId,
    RequestId,
    Outcome,
    Details,
    Time,
}

#[derive(DeriveIden)]
enum SecretPurges {
    Table,
    ConnectionId,
    Workspace,
    Attempts,
    LastError,
    CreateTime,
    NextAttemptTime,
}
