CREATE TABLE "pipeline_deployments" (
	"pipeline_id" uuid NOT NULL,
	"environment" text NOT NULL,
	"version" integer NOT NULL,
	"schedule" text,
	"time_zone" text,
	"deployed_by" text NOT NULL,
	"deployed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pipeline_tests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pipeline_id" uuid NOT NULL,
	"name" text NOT NULL,
	"inputs" jsonb NOT NULL,
	"expect" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "scheduled_jobs" ALTER COLUMN "asset_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "environment" text DEFAULT 'dev' NOT NULL;--> statement-breakpoint
ALTER TABLE "scheduled_jobs" ADD COLUMN "pipeline_id" uuid;--> statement-breakpoint
ALTER TABLE "scheduled_jobs" ADD COLUMN "time_zone" text;--> statement-breakpoint
ALTER TABLE "pipeline_deployments" ADD CONSTRAINT "pipeline_deployments_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipeline_tests" ADD CONSTRAINT "pipeline_tests_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "pipeline_deployments_pk" ON "pipeline_deployments" USING btree ("pipeline_id","environment");--> statement-breakpoint
CREATE UNIQUE INDEX "pipeline_tests_name_idx" ON "pipeline_tests" USING btree ("pipeline_id","name");--> statement-breakpoint
ALTER TABLE "scheduled_jobs" ADD CONSTRAINT "scheduled_jobs_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipelines" DROP COLUMN "deployed_version";--> statement-breakpoint
ALTER TABLE "pipelines" DROP COLUMN "schedule";