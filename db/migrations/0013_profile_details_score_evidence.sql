ALTER TABLE "profiles" ALTER COLUMN "row_count" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "profiles" ADD COLUMN "details" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "quality_scores" ADD COLUMN "evidence" jsonb DEFAULT '{}'::jsonb NOT NULL;