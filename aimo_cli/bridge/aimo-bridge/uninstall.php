<?php
/**
 * Uninstall: remove the bridge's own options, transients and cron event, and the Connector Approval entries it added. Connector keys stay unless the admin
 * asked for them to go (option aimo_uninstall_remove_keys), and even then only the ones the bridge created.
 *
 * @package AimoBridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;

if ( get_option( 'aimo_uninstall_remove_keys' ) ) {
	foreach ( (array) get_option( 'aimo_connectors_created_keys', array() ) as $aimo_setting ) {
		if ( is_string( $aimo_setting ) && preg_match( '/^connectors_ai_[a-z0-9_]+_api_key$/', $aimo_setting ) ) {
			delete_option( $aimo_setting );
		}
	}
}

// Connector Approval entries the bridge added (never ones that were there before it).
$aimo_added = get_option( 'aimo_connectors_added_approvals', array() );
if ( is_array( $aimo_added ) && $aimo_added ) {
	$aimo_approvals = get_option( 'wpai_connector_approvals', array() );
	if ( is_array( $aimo_approvals ) ) {
		foreach ( $aimo_added as $aimo_pair ) {
			[ $aimo_caller, $aimo_id ] = array_pad( explode( '|', (string) $aimo_pair, 2 ), 2, '' );
			if ( is_array( $aimo_approvals[ $aimo_caller ] ?? null ) ) {
				unset( $aimo_approvals[ $aimo_caller ][ $aimo_id ] );
				if ( ! $aimo_approvals[ $aimo_caller ] ) {
					unset( $aimo_approvals[ $aimo_caller ] );
				}
			}
		}
		update_option( 'wpai_connector_approvals', $aimo_approvals );
	}
}

foreach ( array(
	'aimo_connectors_mode',
	'aimo_connectors_added_approvals',
	'aimo_connectors_models',
	'aimo_provider_base_urls',
	'aimo_connectors_change_log',
	'aimo_connectors_taken_over',
	'aimo_connectors_created_keys',
	'aimo_uninstall_remove_keys',
	'aimo_connectors_banner_dismissed',
	'aimo_bridge_site_id',
	'aimo_bridge_cache',
) as $aimo_option ) {
	delete_option( $aimo_option );
}

// Caches of earlier bridges (one transient each; now all in the option aimo_bridge_cache).
delete_transient( 'aimo_bridge_connected' );
delete_transient( 'aimo_bridge_ollama_cooldown' );
// Model lists are cached per provider, endpoint and key fingerprint: aimo_bridge_models_<md5>.
$aimo_like     = $wpdb->esc_like( '_transient_aimo_bridge_models_' ) . '%';
$aimo_timeouts = $wpdb->esc_like( '_transient_timeout_aimo_bridge_models_' ) . '%';
foreach ( $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s", $aimo_like ) ) as $aimo_name ) {
	delete_transient( substr( $aimo_name, strlen( '_transient_' ) ) );
}
$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s", $aimo_timeouts ) );

wp_clear_scheduled_hook( 'aimo_bridge_warm_models' );
wp_clear_scheduled_hook( 'aimo_bridge_refresh_models' );
