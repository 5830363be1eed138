-- No query matches column names by trigram (column filters are per asset, through columns_asset_name_idx),
-- and keeping it current was about half the time of a large sync's column inserts on the embedded database.
DROP INDEX "columns_name_trgm_idx";