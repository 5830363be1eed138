ALTER TABLE "certifications" ADD COLUMN "status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "certifications" ADD COLUMN "requested_by" text NOT NULL;--> statement-breakpoint
ALTER TABLE "certifications" ADD COLUMN "requested_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "certifications" ADD COLUMN "reviewed_by" text;--> statement-breakpoint
ALTER TABLE "certifications" ADD COLUMN "reviewed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "certifications" ADD COLUMN "review_note" text;--> statement-breakpoint
CREATE INDEX "certifications_in_force_idx" ON "certifications" USING btree ("expires_at") WHERE "certifications"."status" = 'approved';