CREATE TABLE "job_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_asset_id" uuid NOT NULL,
	"run_id" text NOT NULL,
	"state" text NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"facets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lineage_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_key" text NOT NULL,
	"category" text NOT NULL,
	"event_type" text,
	"event_time" timestamp with time zone NOT NULL,
	"run_id" text,
	"job_asset_id" uuid,
	"producer" text,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "column_lineage" ALTER COLUMN "to_column" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "column_lineage" ADD COLUMN "from_asset_id" uuid;--> statement-breakpoint
ALTER TABLE "job_runs" ADD CONSTRAINT "job_runs_job_asset_id_assets_id_fk" FOREIGN KEY ("job_asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lineage_events" ADD CONSTRAINT "lineage_events_job_asset_id_assets_id_fk" FOREIGN KEY ("job_asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "job_runs_job_run_idx" ON "job_runs" USING btree ("job_asset_id","run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lineage_events_key_idx" ON "lineage_events" USING btree ("event_key");--> statement-breakpoint
CREATE INDEX "lineage_events_job_idx" ON "lineage_events" USING btree ("job_asset_id");--> statement-breakpoint
ALTER TABLE "column_lineage" ADD CONSTRAINT "column_lineage_from_asset_id_assets_id_fk" FOREIGN KEY ("from_asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;