DROP INDEX "assets_name_trgm_idx";--> statement-breakpoint
CREATE INDEX "assets_owner_idx" ON "assets" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "assets_tags_idx" ON "assets" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "assets_name_trgm_idx" ON "assets" USING gin (lower("name") gin_trgm_ops);