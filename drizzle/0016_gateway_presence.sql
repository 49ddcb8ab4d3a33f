CREATE TABLE "agent_gateways" (
	"id" uuid PRIMARY KEY NOT NULL,
	"label" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"alive_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD COLUMN "progress" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "gateway_id" uuid;