CREATE TABLE "ato_authorizations" (
	"asset_id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"authorizing_official" text NOT NULL,
	"granted_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"note" text,
	"recorded_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compliance_controls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"asset_id" uuid NOT NULL,
	"control_id" text NOT NULL,
	"benchmark" text,
	"status" text NOT NULL,
	"evidence" text,
	"recorded_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "governing_documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"asset_id" uuid NOT NULL,
	"title" text NOT NULL,
	"kind" text NOT NULL,
	"reference" text NOT NULL,
	"added_by" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "policy_links_pk";--> statement-breakpoint
ALTER TABLE "policies" ALTER COLUMN "rules" SET DEFAULT '[]'::jsonb;--> statement-breakpoint
ALTER TABLE "policy_links" ALTER COLUMN "asset_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "document" text;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "authority" text;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "policy_links" ADD COLUMN "tag" text;--> statement-breakpoint
ALTER TABLE "policy_links" ADD COLUMN "domain_id" text;--> statement-breakpoint
ALTER TABLE "ato_authorizations" ADD CONSTRAINT "ato_authorizations_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compliance_controls" ADD CONSTRAINT "compliance_controls_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "governing_documents" ADD CONSTRAINT "governing_documents_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "compliance_controls_asset_control_idx" ON "compliance_controls" USING btree ("asset_id","control_id");--> statement-breakpoint
CREATE UNIQUE INDEX "governing_documents_asset_title_idx" ON "governing_documents" USING btree ("asset_id","title");--> statement-breakpoint
ALTER TABLE "policy_links" ADD CONSTRAINT "policy_links_domain_id_domains_id_fk" FOREIGN KEY ("domain_id") REFERENCES "public"."domains"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "policies_name_idx" ON "policies" USING btree ("name");--> statement-breakpoint
CREATE INDEX "policy_links_asset_idx" ON "policy_links" USING btree ("asset_id");--> statement-breakpoint
ALTER TABLE "certifications" DROP COLUMN "certified_by";--> statement-breakpoint
ALTER TABLE "certifications" DROP COLUMN "certified_at";--> statement-breakpoint
ALTER TABLE "policy_links" ADD CONSTRAINT "policy_links_target" UNIQUE NULLS NOT DISTINCT("policy_id","asset_id","tag","domain_id");--> statement-breakpoint
ALTER TABLE "policy_links" ADD CONSTRAINT "policy_links_one_target" CHECK (num_nonnulls("policy_links"."asset_id", "policy_links"."tag", "policy_links"."domain_id") = 1);