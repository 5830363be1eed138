CREATE TABLE "masking_salts" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"salt" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "masking_salts_single_row" CHECK ("masking_salts"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "classification_events" ADD COLUMN "kind" text DEFAULT 'set' NOT NULL;--> statement-breakpoint
ALTER TABLE "classification_events" ADD COLUMN "details" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "classification_events_asset_idx" ON "classification_events" USING btree ("asset_id","created_at");