CREATE TABLE "data_products" (
	"asset_id" uuid PRIMARY KEY NOT NULL,
	"pipeline_id" uuid NOT NULL,
	"node_id" text NOT NULL,
	"version" integer NOT NULL,
	"semver" text NOT NULL,
	"dictionary" jsonb NOT NULL,
	"changelog" jsonb NOT NULL,
	"published_by" text NOT NULL,
	"published_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "data_products" ADD CONSTRAINT "data_products_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "data_products" ADD CONSTRAINT "data_products_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "data_products_pipeline_idx" ON "data_products" USING btree ("pipeline_id");