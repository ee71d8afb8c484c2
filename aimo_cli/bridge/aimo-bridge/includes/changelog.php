<?php
/**
 * A short log of changes to connector key options: who, when, which setting, the new value's fingerprint
 * (never the key), and the application password used. aimo's own writes (through the bridge's credentials route,
 * never judged by the User-Agent) are marked, so `aimo doctor` can point at edits made elsewhere.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

function aimo_bridge_changelog_hooks(): void {
	// delete_option_{name} fires after the row is gone: read the old value on the generic action, before.
	add_action(
		'delete_option',
		static function ( $option ) {
			if ( preg_match( '/^connectors_ai_[a-z0-9_]+_api_key$/', (string) $option ) && aimo_bridge_provider_for_setting( (string) $option ) ) {
				aimo_bridge_log_change( (string) $option, get_option( $option, '' ), null );
			}
		}
	);
	foreach ( array_keys( aimo_bridge_providers() ) as $id ) {
		$setting = aimo_bridge_setting_name( $id );
		add_action(
			"add_option_{$setting}",
			static function ( $option, $value ) {
				aimo_bridge_log_change( (string) $option, '', $value );
			},
			10,
			2
		);
		add_action(
			"update_option_{$setting}",
			static function ( $old, $value, $option ) {
				aimo_bridge_log_change( (string) $option, $old, $value );
			},
			10,
			3
		);
	}
}

function aimo_bridge_provider_for_setting( string $setting ): ?string {
	foreach ( array_keys( aimo_bridge_providers() ) as $id ) {
		if ( aimo_bridge_setting_name( $id ) === $setting ) {
			return $id;
		}
	}
	return null;
}

/** Where the current request comes from, as far as WordPress tells. */
function aimo_bridge_request_channel(): string {
	if ( defined( 'WP_CLI' ) && WP_CLI ) {
		return 'cli';
	}
	if ( wp_doing_cron() ) {
		return 'cron';
	}
	if ( defined( 'REST_REQUEST' ) && REST_REQUEST ) {
		return 'rest';
	}
	if ( is_admin() ) {
		return 'admin';
	}
	return 'php';
}

/** The name of the application password the current request authenticated with ('' for none: cookie, CLI, cron). */
function aimo_bridge_app_password_name(): string {
	$uuid = function_exists( 'rest_get_authenticated_app_password' ) ? rest_get_authenticated_app_password() : null;
	$user = get_current_user_id();
	if ( ! $uuid || ! $user || ! class_exists( 'WP_Application_Passwords' ) ) {
		return '';
	}
	$item = WP_Application_Passwords::get_user_application_password( $user, $uuid );
	return is_array( $item ) ? (string) ( $item['name'] ?? '' ) : '';
}

function aimo_bridge_log_change( string $setting, $old, $new_value ): void {
	$old = is_string( $old ) ? $old : '';
	if ( null !== $new_value && ! is_string( $new_value ) ) {
		return;
	}
	if ( $old === $new_value || ! empty( $GLOBALS['aimo_bridge_restoring'] ) ) {
		return;
	}
	$user  = wp_get_current_user();
	$entry = array(
		'time'                 => gmdate( 'Y-m-d\TH:i:s\Z' ),
		'user'                 => $user && $user->exists() ? $user->user_login : '',
		'setting'              => $setting,
		'action'               => null === $new_value ? 'deleted' : ( '' === $new_value ? 'cleared' : 'set' ),
		'fingerprint'          => aimo_bridge_fingerprint( $new_value ),
		'previous_fingerprint' => aimo_bridge_fingerprint( $old ),
		'via'                  => aimo_bridge_request_channel(),
		'by_aimo'              => aimo_bridge_request_is_aimo(),
		'app_password'         => aimo_bridge_app_password_name(),
		'writer'               => aimo_bridge_writer_entry(),
	);
	$log   = get_option( AIMO_BRIDGE_OPT_LOG, array() );
	$log   = is_array( $log ) ? $log : array();
	$log[] = $entry;
	update_option( AIMO_BRIDGE_OPT_LOG, array_slice( $log, -AIMO_BRIDGE_LOG_MAX ), false );
}
