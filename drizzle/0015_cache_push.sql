CREATE TABLE "cache_uploads" (
	"org_id" uuid NOT NULL,
	"nar_url" text NOT NULL,
	"file_size" bigint NOT NULL,
	"nar_hash" text NOT NULL,
	"nar_size" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cache_uploads_org_id_nar_url_pk" PRIMARY KEY("org_id","nar_url")
);
--> statement-breakpoint
CREATE TABLE "closure_paths" (
	"org_id" uuid NOT NULL,
	"root_path" text NOT NULL,
	"store_hash" text NOT NULL,
	"store_path" text NOT NULL,
	CONSTRAINT "closure_paths_org_id_root_path_store_hash_pk" PRIMARY KEY("org_id","root_path","store_hash")
);
--> statement-breakpoint
ALTER TABLE "cache_objects" ADD COLUMN "nar_hash" text;--> statement-breakpoint
ALTER TABLE "cache_objects" ADD COLUMN "nar_size" bigint;--> statement-breakpoint
ALTER TABLE "cache_objects" ADD COLUMN "references" text[];--> statement-breakpoint
ALTER TABLE "cache_objects" ADD COLUMN "pushed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cache_objects" ADD COLUMN "pushed_by" uuid;--> statement-breakpoint
ALTER TABLE "fleet_settings" ADD COLUMN "cache_trusted_keys" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "needs_reboot" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "deploy_only" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "cache_uploads" ADD CONSTRAINT "cache_uploads_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "closure_paths" ADD CONSTRAINT "closure_paths_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "closure_paths_hash_idx" ON "closure_paths" USING btree ("org_id","store_hash");--> statement-breakpoint
ALTER TABLE "cache_objects" ADD CONSTRAINT "cache_objects_pushed_by_api_tokens_id_fk" FOREIGN KEY ("pushed_by") REFERENCES "public"."api_tokens"("id") ON DELETE set null ON UPDATE no action;