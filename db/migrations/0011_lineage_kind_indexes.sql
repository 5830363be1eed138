DROP INDEX "lineage_from_idx";--> statement-breakpoint
DROP INDEX "lineage_to_idx";--> statement-breakpoint
CREATE INDEX "column_lineage_from_asset_idx" ON "column_lineage" USING btree ("from_asset_id","from_column");--> statement-breakpoint
CREATE INDEX "lineage_from_kind_idx" ON "lineage_edges" USING btree ("from_asset_id","kind");--> statement-breakpoint
CREATE INDEX "lineage_to_kind_idx" ON "lineage_edges" USING btree ("to_asset_id","kind");