use sea_orm_migration::prelude::*;

/// Installed plugins, their log, and the generation counter every server instance polls to
/// notice that another one installed, enabled, disabled, upgraded or removed a plugin.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plugins::Table)
                    .col(
                        ColumnDef::new(Plugins::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Plugins::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Plugins::Version).string().not_null())
                    .col(ColumnDef::new(Plugins::Kind).string().not_null())
                    .col(ColumnDef::new(Plugins::Description).text().not_null())
                    .col(ColumnDef::new(Plugins::Builtin).boolean().not_null())
                    .col(ColumnDef::new(Plugins::Enabled).boolean().not_null())
                    // What the plugin asks for, and what an admin granted (JSON arrays).
                    .col(ColumnDef::new(Plugins::Capabilities).json_binary().not_null())
                    .col(ColumnDef::new(Plugins::ApprovedCapabilities).json_binary().not_null())
                    // Its self-description: operators, criteria or actions offered.
                    .col(ColumnDef::new(Plugins::Offers).json_binary().not_null())
                    .col(ColumnDef::new(Plugins::Sha256).string().not_null())
                    .col(ColumnDef::new(Plugins::Size).big_integer().not_null())
                    // The component; NULL for built-ins, which ship inside the binary.
                    .col(ColumnDef::new(Plugins::Wasm).blob().null())
                    .col(ColumnDef::new(Plugins::InstalledBy).string().null())
                    .col(
                        ColumnDef::new(Plugins::InstalledAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Plugins::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PluginLogs::Table)
                    .col(
                        ColumnDef::new(PluginLogs::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PluginLogs::Plugin).string().not_null())
                    .col(ColumnDef::new(PluginLogs::At).timestamp_with_time_zone().not_null())
                    // `stdout`, `stderr` or `host` (what the host did or saw).
                    .col(ColumnDef::new(PluginLogs::Stream).string().not_null())
                    .col(ColumnDef::new(PluginLogs::Line).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plugin_logs_plugin")
                    .table(PluginLogs::Table)
                    .col(PluginLogs::Plugin)
                    .col(PluginLogs::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PluginGeneration::Table)
                    .col(ColumnDef::new(PluginGeneration::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(PluginGeneration::Generation).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(PluginGeneration::Table)
            .columns([PluginGeneration::Id, PluginGeneration::Generation])
            .values([1.into(), 0i64.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PluginGeneration::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PluginLogs::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Plugins::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Plugins {
    Table,
    Id,
    Name,
    Version,
    Kind,
    Description,
    Builtin,
    Enabled,
    Capabilities,
    ApprovedCapabilities,
    Offers,
    Sha256,
    Size,
    Wasm,
    InstalledBy,
    InstalledAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PluginLogs {
    Table,
    Id,
    Plugin,
    At,
    Stream,
    Line,
}

#[derive(DeriveIden)]
enum PluginGeneration {
    Table,
    Id,
    Generation,
}
