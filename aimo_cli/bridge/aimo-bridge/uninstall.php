<?php
/**
 * Uninstall: remove the bridge's own options, transients and cron event. Connector keys stay unless the admin
 * asked for them to go (option aimo_uninstall_remove_keys), and even then only the ones the bridge created.
 *
 * @package AimoBridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;

if ( get_option( 'aimo_uninstall_remove_keys' ) ) {
	foreach ( (array) get_option( 'aimo_connectors_created_keys', array() ) as $setting ) {
		if ( is_string( $setting ) && preg_match( '/^connectors_ai_[a-z0-9_]+_api_key$/', $setting ) ) {
			delete_option( $setting );
		}
	}
}

foreach ( array(
	'aimo_connectors_mode',
	'aimo_connectors_models',
	'aimo_provider_base_urls',
	'aimo_connectors_change_log',
	'aimo_connectors_taken_over',
	'aimo_connectors_created_keys',
	'aimo_uninstall_remove_keys',
	'aimo_connectors_banner_dismissed',
) as $option ) {
	delete_option( $option );
}

delete_transient( 'aimo_bridge_connected' );
delete_transient( 'aimo_bridge_ollama_cooldown' );
// Model lists are cached per provider, endpoint and key fingerprint: aimo_bridge_models_<md5>.
$like = $wpdb->esc_like( '_transient_aimo_bridge_models_' ) . '%';
$tout = $wpdb->esc_like( '_transient_timeout_aimo_bridge_models_' ) . '%';
foreach ( $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s", $like ) ) as $name ) { // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	delete_transient( substr( $name, strlen( '_transient_' ) ) );
}
$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s", $tout ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery

wp_clear_scheduled_hook( 'aimo_bridge_warm_models' );
