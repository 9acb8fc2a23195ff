CREATE TABLE `clusters` (
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`signing_key_enc` text NOT NULL,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`revoked_at` text,
	PRIMARY KEY(`tenant_id`, `name`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `clusters_token_hash` ON `clusters` (`token_hash`);--> statement-breakpoint
CREATE TABLE `integrations` (
	`tenant_id` text NOT NULL,
	`vendor` text NOT NULL,
	`mode` text DEFAULT 'simulated' NOT NULL,
	`base_url` text,
	`credentials_enc` text,
	`webhook_secret_enc` text,
	`previous_webhook_secret_enc` text,
	`previous_secret_expires_at` text,
	`run_as_role` text DEFAULT 'operator' NOT NULL,
	`updated_by` text,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`tenant_id`, `vendor`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`tenant_id` text NOT NULL,
	`source` text NOT NULL,
	`delivery_id` text NOT NULL,
	`event_type` text,
	`received_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`runs` text DEFAULT '[]' NOT NULL,
	`matches` text DEFAULT '[]' NOT NULL,
	PRIMARY KEY(`tenant_id`, `source`, `delivery_id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_tenant_received` ON `webhook_deliveries` (`tenant_id`,`received_at`);