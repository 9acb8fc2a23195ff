CREATE TABLE `people` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`email` text,
	`name` text,
	`oidc_subject` text,
	`groups_role` text,
	`role` text,
	`role_set_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`last_seen_at` text,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `api_keys` ADD `owner` text;--> statement-breakpoint
CREATE INDEX `api_keys_tenant_owner` ON `api_keys` (`tenant_id`,`owner`);--> statement-breakpoint
ALTER TABLE `clusters` ADD `labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `integrations` ADD `target_labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `actor_person` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `person` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `vendor_delivery_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_vendor_id` ON `webhook_deliveries` (`tenant_id`,`source`,`vendor_delivery_id`);