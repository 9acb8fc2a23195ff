ALTER TABLE `clusters` ADD `labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `integrations` ADD `target_labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `vendor_delivery_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_vendor_id` ON `webhook_deliveries` (`tenant_id`,`source`,`vendor_delivery_id`);