<?php
/**
 * Living next to other AI plugins, from their behaviour rather than their names: which plugin a piece of code
 * belongs to (plugin headers), who registered each connector (watched while wp_connectors_init runs), which AI
 * Client class serves each provider, what the Connectors page will show, and the key guard — in managed mode
 * nothing but aimo's explicit removal path may empty a connector key option, whoever writes it, and no plugin may
 * put back a key aimo replaced on this site (an old copy in another plugin's settings).
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;

add_action( 'wp_connectors_init', 'aimo_bridge_watch_registrants', PHP_INT_MIN );

/**
 * The plugin a PHP file belongs to, from the plugin's headers: {kind, file, name, version}. kind is "aimo" (the
 * bridge), "plugin", "mu-plugin", "core" (wp-includes, wp-admin) or "other".
 */
function aimo_bridge_plugin_for_file( string $file ): array {
	static $cache = array();
	if ( isset( $cache[ $file ] ) ) {
		return $cache[ $file ];
	}
	$norm    = aimo_bridge_real_path( $file );
	$bridge  = aimo_bridge_real_path( AIMO_BRIDGE_DIR );
	$plugins = aimo_bridge_real_path( WP_PLUGIN_DIR );
	$mu      = aimo_bridge_real_path( WPMU_PLUGIN_DIR );
	$core    = array();
	foreach ( array( ABSPATH . 'wp-includes', ABSPATH . 'wp-admin', ABSPATH ) as $dir ) {
		$core[] = trailingslashit( aimo_bridge_real_path( $dir ) );
	}
	$out = array(
		'kind'    => 'other',
		'file'    => '',
		'name'    => '',
		'version' => '',
	);
	if ( str_starts_with( $norm, trailingslashit( $bridge ) ) ) {
		$out = array(
			'kind'    => 'aimo',
			'file'    => aimo_bridge_basename(),
			'name'    => 'aimo bridge',
			'version' => AIMO_BRIDGE_VERSION,
		);
	} elseif ( str_starts_with( $norm, trailingslashit( $plugins ) ) ) {
		$relative = substr( $norm, strlen( trailingslashit( $plugins ) ) );
		$slug     = strtok( $relative, '/' );
		if ( ! function_exists( 'get_plugins' ) ) {
			require_once ABSPATH . 'wp-admin/includes/plugin.php';
		}
		$found = str_contains( $relative, '/' ) ? get_plugins( '/' . $slug ) : array();
		if ( $found ) {
			$main = array_key_first( $found );
			$out  = array(
				'kind'    => 'plugin',
				'file'    => $slug . '/' . $main,
				'name'    => (string) $found[ $main ]['Name'],
				'version' => (string) $found[ $main ]['Version'],
			);
		} else {
			$data = get_file_data(
				$norm,
				array(
					'Name'    => 'Plugin Name',
					'Version' => 'Version',
				)
			);
			$out  = array(
				'kind'    => 'plugin',
				'file'    => $relative,
				'name'    => '' !== (string) $data['Name'] ? (string) $data['Name'] : $relative,
				'version' => (string) $data['Version'],
			);
		}
	} elseif ( str_starts_with( $norm, trailingslashit( $mu ) ) ) {
		$relative = substr( $norm, strlen( trailingslashit( $mu ) ) );
		$data     = get_file_data(
			$mu . '/' . strtok( $relative, '/' ),
			array(
				'Name'    => 'Plugin Name',
				'Version' => 'Version',
			)
		);
		$out      = array(
			'kind'    => 'mu-plugin',
			'file'    => $relative,
			'name'    => '' !== (string) $data['Name'] ? (string) $data['Name'] : $relative,
			'version' => (string) $data['Version'],
		);
	} elseif ( str_starts_with( $norm, $core[0] ) || str_starts_with( $norm, $core[1] ) || trailingslashit( dirname( $norm ) ) === $core[2] ) {
		$out = array(
			'kind'    => 'core',
			'file'    => '',
			'name'    => 'WordPress',
			'version' => (string) get_bloginfo( 'version' ),
		);
	}
	$cache[ $file ] = $out;
	return $out;
}

/** A path with symlinks resolved (as PHP reports included files), normalised. */
function aimo_bridge_real_path( string $path ): string {
	$real = realpath( $path );
	return wp_normalize_path( false !== $real ? $real : $path );
}

/** "AI Provider for OpenAI 1.0.3", "WordPress core", "aimo bridge 0.1.0". */
function aimo_bridge_plugin_label( ?array $owner ): string {
	if ( ! $owner ) {
		return '';
	}
	if ( 'core' === $owner['kind'] ) {
		return 'WordPress core';
	}
	$known = 'plugin' === $owner['kind'] ? aimo_bridge_manager_for_plugin( (string) $owner['file'] ) : null;
	return trim( ( $known ? $known['name'] : $owner['name'] ) . ' ' . $owner['version'] ); // "AI Puffer 2.4.71", not its long header name
}

/** The file defining a class or a callback ('' when unknown). */
function aimo_bridge_callback_file( $callback ): string {
	try {
		if ( is_string( $callback ) && class_exists( $callback, false ) ) {
			return (string) ( new ReflectionClass( $callback ) )->getFileName();
		}
		if ( is_string( $callback ) && str_contains( $callback, '::' ) ) {
			$callback = explode( '::', $callback, 2 );
		}
		if ( is_array( $callback ) && 2 === count( $callback ) ) {
			return (string) ( new ReflectionMethod( is_object( $callback[0] ) ? get_class( $callback[0] ) : (string) $callback[0], (string) $callback[1] ) )->getFileName();
		}
		if ( $callback instanceof Closure || ( is_string( $callback ) && function_exists( $callback ) ) ) {
			return (string) ( new ReflectionFunction( $callback ) )->getFileName();
		}
		if ( is_object( $callback ) ) {
			return (string) ( new ReflectionClass( $callback ) )->getFileName();
		}
	} catch ( ReflectionException $e ) {
		return '';
	}
	return '';
}

/**
 * The code that is writing right now, from the call stack: the innermost frame in another plugin (or
 * mu-plugin); else the bridge when its own code is on the stack; else WordPress core.
 */
function aimo_bridge_writer(): array {
	$bridge = null;
	foreach ( debug_backtrace( DEBUG_BACKTRACE_IGNORE_ARGS ) as $frame ) { // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_debug_backtrace -- names the plugin writing an option (file paths only, no arguments)
		if ( empty( $frame['file'] ) ) {
			continue;
		}
		$owner = aimo_bridge_plugin_for_file( (string) $frame['file'] );
		if ( in_array( $owner['kind'], array( 'plugin', 'mu-plugin' ), true ) ) {
			return $owner;
		}
		if ( 'aimo' === $owner['kind'] && ! str_ends_with( wp_normalize_path( (string) $frame['file'] ), '/includes/coexist.php' ) && ! str_ends_with( wp_normalize_path( (string) $frame['file'] ), '/includes/changelog.php' ) ) {
			$bridge = $bridge ?? $owner;
		}
	}
	return $bridge ?? aimo_bridge_plugin_for_file( ABSPATH . 'wp-includes/option.php' );
}

/** The writer as a change-log field: {kind, plugin, name, version}. */
function aimo_bridge_writer_entry(): array {
	$w = aimo_bridge_writer();
	return array(
		'kind'    => $w['kind'],
		'plugin'  => $w['file'],
		'name'    => $w['name'],
		'version' => $w['version'],
	);
}

// -- who registered each connector ---------------------------------------------------------------------------------

/**
 * At the very start of wp_connectors_init: core's own and auto-discovered connectors are in place. Watch every
 * priority that follows and attribute each connector that appears or changes to the callbacks of that priority.
 */
function aimo_bridge_watch_registrants( $registry ): void {
	global $wp_filter;
	$GLOBALS['aimo_bridge_registrants']  = array();
	$GLOBALS['aimo_bridge_unregistered'] = array();
	$signatures                          = aimo_bridge_connector_signatures( $registry );
	foreach ( array_keys( $signatures ) as $id ) {
		$GLOBALS['aimo_bridge_registrants'][ $id ] = aimo_bridge_plugin_for_file( ABSPATH . 'wp-includes/connectors.php' );
	}
	$hook = $wp_filter['wp_connectors_init'] ?? null;
	if ( ! $hook instanceof WP_Hook ) {
		return;
	}
	foreach ( array_keys( $hook->callbacks ) as $priority ) {
		if ( PHP_INT_MIN === $priority ) {
			continue;
		}
		$owners = array();
		foreach ( $hook->callbacks[ $priority ] as $entry ) {
			$file = aimo_bridge_callback_file( $entry['function'] );
			if ( '' !== $file ) {
				$owners[] = aimo_bridge_plugin_for_file( $file );
			}
		}
		add_action(
			'wp_connectors_init',
			static function ( $registry ) use ( &$signatures, $owners ) {
				$now   = aimo_bridge_connector_signatures( $registry );
				$owner = null;
				foreach ( $owners as $o ) {
					if ( 'core' !== $o['kind'] ) {
						$owner = $o;
						break;
					}
				}
				$owner = $owner ?? ( $owners[0] ?? null );
				if ( $owner ) {
					foreach ( $now as $id => $sig ) {
						if ( ( $signatures[ $id ] ?? null ) !== $sig ) {
							$GLOBALS['aimo_bridge_registrants'][ $id ] = $owner;
							unset( $GLOBALS['aimo_bridge_unregistered'][ $id ] );
						}
					}
					foreach ( array_diff_key( $signatures, $now ) as $id => $sig ) {
						$GLOBALS['aimo_bridge_unregistered'][ $id ] = $owner;
						unset( $GLOBALS['aimo_bridge_registrants'][ $id ] );
					}
				}
				$signatures = $now;
			},
			$priority
		);
	}
}

function aimo_bridge_connector_signatures( $registry ): array {
	$out = array();
	foreach ( $registry->get_all_registered() as $id => $c ) {
		$out[ $id ] = md5(
			(string) wp_json_encode(
				array(
					$c['name'] ?? '',
					$c['description'] ?? '',
					$c['authentication']['method'] ?? '',
					$c['plugin']['file'] ?? '',
				)
			)
		);
	}
	return $out;
}

/** Who registered a connector as it stands now (null: not registered, or registered before the bridge watched). */
function aimo_bridge_registrant( string $id ): ?array {
	return $GLOBALS['aimo_bridge_registrants'][ $id ] ?? null;
}

/** Who removed a connector during wp_connectors_init (null: nobody). */
function aimo_bridge_unregistered_by( string $id ): ?array {
	return $GLOBALS['aimo_bridge_unregistered'][ $id ] ?? null;
}

// -- who serves each provider --------------------------------------------------------------------------------------

/** The AI Client class serving a provider id and the plugin it belongs to, or null when none is registered. */
function aimo_bridge_serving( string $id ): ?array {
	if ( ! aimo_bridge_ai_client_available() ) {
		return null;
	}
	try {
		$registry = AiClient::defaultRegistry();
		if ( ! $registry->hasProvider( $id ) ) {
			return null;
		}
		$class = $registry->getProviderClassName( $id );
	} catch ( Throwable $e ) {
		return null;
	}
	$owner   = aimo_bridge_plugin_for_file( aimo_bridge_callback_file( $class ) );
	$gateway = false;
	foreach ( aimo_bridge_known_managers() as $m ) {
		if ( 'plugin' === $owner['kind'] && str_starts_with( $owner['file'], (string) $m['slug'] . '/' ) ) {
			$gateway = true;
		}
	}
	$label = aimo_bridge_plugin_label( $owner );
	return array(
		'class'   => $class,
		'kind'    => $owner['kind'],
		'plugin'  => $owner['file'],
		'name'    => $owner['name'],
		'version' => $owner['version'],
		'gateway' => $gateway,
		'label'   => $gateway ? $label . ' (gateway)' : $label,
	);
}

/** What Settings → Connectors will show, by the page's own data (core's builder plus every plugin's filter). */
function aimo_bridge_page_connectors(): array {
	static $page = null;
	if ( null !== $page ) {
		return $page;
	}
	$page = array();
	if ( ! function_exists( '_wp_connectors_get_connector_script_module_data' ) || ! aimo_bridge_ai_client_available() ) {
		return $page;
	}
	try {
		$data = apply_filters( 'script_module_data_options-connectors-wp-admin', array() ); // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound, WordPress.NamingConventions.ValidHookName.UseUnderscores -- core's own filter for the Connectors page data, applied to read what the page shows
	} catch ( Throwable $e ) {
		return $page;
	}
	$page = is_array( $data['connectors'] ?? null ) ? $data['connectors'] : array();
	return $page;
}

// -- the key guard -------------------------------------------------------------------------------------------------

/** Whether a connector key option is being emptied by aimo's explicit removal path. */
function aimo_bridge_removal_allowed(): bool {
	if ( ! empty( $GLOBALS['aimo_bridge_clearing'] ) ) {
		return true;
	}
	if ( defined( 'WP_UNINSTALL_PLUGIN' ) && aimo_bridge_basename() === WP_UNINSTALL_PLUGIN ) {
		return true; // the bridge's own uninstall.php, removing the keys it created when the admin asked for that
	}
	return function_exists( 'aimo_bridge_is_explicit_removal' ) && aimo_bridge_is_explicit_removal();
}

function aimo_bridge_is_connector_key_option( string $option ): bool {
	return (bool) preg_match( '/^connectors_ai_[a-z0-9_]+_api_key$/', $option );
}

/** Managed mode: hook the guard (update to an empty value, and deletion, of any connector key option). */
function aimo_bridge_guard_hooks(): void {
	add_filter( 'pre_update_option', 'aimo_bridge_guard_update', PHP_INT_MAX, 3 );
	add_action( 'delete_option', 'aimo_bridge_guard_before_delete', PHP_INT_MIN );
	add_action( 'deleted_option', 'aimo_bridge_guard_after_delete', PHP_INT_MAX );
}

/** Refuse an empty value over a stored key (the option keeps its value; the attempt is logged with its writer). */
function aimo_bridge_guard_update( $value, $option, $old_value ) {
	if ( ! aimo_bridge_is_connector_key_option( (string) $option ) || ! is_string( $old_value ) || '' === $old_value ) {
		return $value;
	}
	if ( aimo_bridge_removal_allowed() ) {
		return $value;
	}
	if ( is_string( $value ) && '' !== trim( $value ) ) {
		if ( $value === $old_value || ! aimo_bridge_is_replaced_key( (string) $option, $value ) ) {
			return $value;
		}
		$writer = aimo_bridge_writer();
		if ( ! in_array( $writer['kind'], array( 'plugin', 'mu-plugin' ), true ) ) {
			return $value; // an admin's own edit (core's screens and routes): aimo reports it as a rollback
		}
		aimo_bridge_log_refusal( (string) $option, $old_value, 'refused_rollback', $value );
		return $old_value;
	}
	aimo_bridge_log_refusal( (string) $option, $old_value, 'refused_clear' );
	return $old_value;
}

/** Whether aimo replaced this exact value on this site before (its change log, fingerprints only). */
function aimo_bridge_is_replaced_key( string $setting, string $value ): bool {
	$fp  = aimo_bridge_fingerprint( $value );
	$log = get_option( AIMO_BRIDGE_OPT_LOG, array() );
	foreach ( is_array( $log ) ? $log : array() as $entry ) {
		if ( is_array( $entry ) && ( $entry['setting'] ?? '' ) === $setting && ! empty( $entry['by_aimo'] ) && ( $entry['previous_fingerprint'] ?? '' ) === $fp ) {
			return true;
		}
	}
	return false;
}

function aimo_bridge_guard_before_delete( $option ): void {
	if ( ! aimo_bridge_is_connector_key_option( (string) $option ) || aimo_bridge_removal_allowed() ) {
		return;
	}
	$old = get_option( $option, '' );
	if ( is_string( $old ) && '' !== $old ) {
		$GLOBALS['aimo_bridge_deleting'][ $option ] = $old;
	}
}

/** A deletion nobody may make: the key is put back at once, and the attempt logged. */
function aimo_bridge_guard_after_delete( $option ): void {
	$old = $GLOBALS['aimo_bridge_deleting'][ $option ] ?? null;
	unset( $GLOBALS['aimo_bridge_deleting'][ $option ] );
	if ( ! is_string( $old ) ) {
		return;
	}
	aimo_bridge_log_refusal( (string) $option, $old, 'refused_delete' );
	$GLOBALS['aimo_bridge_restoring'] = true;
	try {
		add_option( $option, $old, '', false );
	} finally {
		$GLOBALS['aimo_bridge_restoring'] = false;
	}
}

function aimo_bridge_log_refusal( string $setting, string $kept, string $action, string $refused = '' ): void {
	$user  = wp_get_current_user();
	$entry = array(
		'time'                 => gmdate( 'Y-m-d\TH:i:s\Z' ),
		'user'                 => $user && $user->exists() ? $user->user_login : '',
		'setting'              => $setting,
		'action'               => $action,
		'fingerprint'          => aimo_bridge_fingerprint( $kept ),
		'previous_fingerprint' => aimo_bridge_fingerprint( $kept ),
		'refused_fingerprint'  => aimo_bridge_fingerprint( $refused ),
		'via'                  => aimo_bridge_request_channel(),
		'by_aimo'              => false,
		'writer'               => aimo_bridge_writer_entry(),
	);
	$log   = get_option( AIMO_BRIDGE_OPT_LOG, array() );
	$log   = is_array( $log ) ? $log : array();
	$log[] = $entry;
	update_option( AIMO_BRIDGE_OPT_LOG, array_slice( $log, -AIMO_BRIDGE_LOG_MAX ), false );
}

// -- refusing to write through another manager ---------------------------------------------------------------------

function aimo_bridge_competitor_error( array $manager ): WP_Error {
	$label = trim( $manager['name'] . ' ' . ( $manager['version'] ?? '' ) );
	return new WP_Error(
		'aimo_conflict',
		sprintf(
			/* translators: 1: plugin name, 2: plugin name and version. */
			__( '%1$s is managing the connectors (%2$s, in its own managed mode): the bridge writes nothing while another manager is in charge. Take over with `aimo connectors takeover` (it is switched to observe; its keys are untouched), or leave it in charge.', 'aimo-bridge' ),
			$manager['name'],
			$label
		),
		array(
			'status'  => 409,
			'manager' => $manager['name'],
			'version' => $manager['version'] ?? '',
		)
	);
}

// -- validation that contacts the provider -------------------------------------------------------------------------

/**
 * Validate a key before storing it. Through the AI Client when the bridge's own adapter serves the provider; when
 * another plugin's class serves it (whose model list may be static and prove nothing), with a direct
 * authenticated call of the bridge's own to the provider.
 *
 * @return array{valid: bool, reason: string, note?: string}
 */
function aimo_bridge_validate_key_anywhere( string $id, string $key ): array {
	$serving = aimo_bridge_serving( $id );
	if ( $serving && 'aimo' === $serving['kind'] ) {
		return aimo_bridge_validate_key( $id, $key );
	}
	$check = aimo_bridge_direct_key_check( $id, $key );
	if ( $check['valid'] ) {
		$check['note'] = sprintf( 'verified with a direct call to the provider (served by %s)', $serving ? $serving['label'] : 'nothing' );
	}
	return $check;
}

/**
 * One authenticated call of the bridge's own: the provider's model list (OpenRouter: /key; Hugging Face: whoami;
 * Ollama: the server's model list, its URL being the credential).
 *
 * @return array{valid: bool, reason: string}
 */
function aimo_bridge_direct_key_check( string $id, string $key ): array {
	$conf = aimo_bridge_provider( $id );
	if ( ! $conf ) {
		return array(
			'valid'  => false,
			'reason' => "unknown provider {$id}",
		);
	}
	$headers = array( 'Authorization' => 'Bearer ' . $key );
	if ( 'anthropic' === $id ) {
		$headers = array(
			'x-api-key'         => $key,
			'anthropic-version' => '2023-06-01',
		);
	}
	if ( 'ollama' === $id ) {
		$headers                                 = array();
		$GLOBALS['aimo_bridge_ollama_candidate'] = $key;
		$url                                     = aimo_bridge_url( 'ollama', 'models', $key );
	} elseif ( str_starts_with( (string) $conf['key_check'], '/' ) ) { // the manifest's key check: a path under the base URL
		$url = aimo_bridge_url( $id, (string) $conf['key_check'] );
	} elseif ( '' !== (string) $conf['key_check'] ) { // or a URL of its own (Hugging Face's whoami)
		require_once AIMO_BRIDGE_DIR . '/includes/adapters.php';
		$url = aimo_bridge_key_check_url( $id );
	} else {
		$url = aimo_bridge_url( $id, 'models' );
	}
	try {
		$response = wp_safe_remote_get(
			$url,
			array(
				'headers' => $headers,
				'timeout' => 15,
			)
		);
	} finally {
		unset( $GLOBALS['aimo_bridge_ollama_candidate'] );
	}
	$where = (string) preg_replace( '/[?#].*$/', '', $url ); // never a query
	if ( is_wp_error( $response ) ) {
		return array(
			'valid'       => false,
			'reason'      => 'the provider could not be reached: ' . $response->get_error_message(),
			'cause'       => 'unreachable',
			'url'         => $where,
			'http_status' => 0,
		);
	}
	$code = (int) wp_remote_retrieve_response_code( $response );
	if ( $code >= 200 && $code < 300 ) {
		return array(
			'valid'  => true,
			'reason' => '',
		);
	}
	$body = json_decode( (string) wp_remote_retrieve_body( $response ), true );
	$msg  = is_array( $body ) ? (string) ( $body['error']['message'] ?? ( is_string( $body['error'] ?? null ) ? $body['error'] : '' ) ) : '';
	$msg  = str_replace( $key, '••••' . substr( $key, -4 ), $msg );
	return array(
		'valid'       => false,
		'reason'      => trim( sprintf( 'HTTP %d %s', $code, mb_substr( $msg, 0, 300 ) ) ),
		'cause'       => in_array( $code, array( 400, 401, 403 ), true ) ? 'refused' : 'unreachable',
		'url'         => $where,
		'http_status' => $code,
	);
}

// -- Ollama served by Fueled's AI Provider for Ollama -------------------------------------------------------------

/**
 * Where the Ollama server lives when Fueled's plugin serves Ollama (its connector key option is an Ollama Cloud
 * API key there, sent as a Bearer token, never a server URL): {plugin, host, source: env|setting|default}.
 * Null when that plugin does not serve Ollama.
 */
function aimo_bridge_ollama_plugin_host(): ?array {
	$serving = aimo_bridge_serving( 'ollama' );
	if ( ! $serving || 'ai-provider-for-ollama/plugin.php' !== $serving['plugin'] ) {
		return null;
	}
	$settings = get_option( 'ai_provider_for_ollama_settings', array() );
	$setting  = is_array( $settings ) && is_string( $settings['host'] ?? null ) ? trim( $settings['host'] ) : '';
	$env      = getenv( 'OLLAMA_HOST' );
	$env      = is_string( $env ) ? $env : '';
	// The plugin copies its setting (or its default) into OLLAMA_HOST at init: a different value came from the server.
	if ( '' !== $env && $env !== $setting && ( '' !== $setting || 'http://localhost:11434' !== $env ) ) {
		$source = 'env';
		$host   = $env;
	} elseif ( '' !== $setting ) {
		$source = 'setting';
		$host   = $setting;
	} else {
		$source = 'default';
		$host   = 'http://localhost:11434';
	}
	return array(
		'plugin'  => $serving['plugin'],
		'label'   => $serving['label'],
		'host'    => $host,
		'source'  => $source,
		'setting' => 'ai_provider_for_ollama_settings[host]',
	);
}

/** aimo's Ollama server URL goes to the Ollama plugin's host setting (checked first), never into the key option. */
function aimo_bridge_store_ollama_host( string $url, string $stored_key ): array {
	$where = aimo_bridge_ollama_plugin_host();
	$fp    = aimo_bridge_fingerprint( $stored_key );
	if ( ! preg_match( '#^https?://[^\s/]+#i', $url ) ) {
		return array(
			'status'      => 'rejected',
			'reason'      => 'not a server URL: with AI Provider for Ollama the Ollama credential aimo syncs is the server URL (nothing changed)',
			'fingerprint' => $fp,
		);
	}
	if ( 'env' === $where['source'] ) {
		return array(
			'status'      => 'rejected',
			'reason'      => sprintf( 'the Ollama server is set by the OLLAMA_HOST environment variable on the site (%s), which wins over every setting (nothing changed)', $where['host'] ),
			'fingerprint' => $fp,
		);
	}
	$check = aimo_bridge_direct_key_check( 'ollama', $url );
	if ( ! $check['valid'] ) {
		return array(
			'status'      => 'rejected',
			'reason'      => 'the Ollama server refused or did not answer: ' . $check['reason'] . ' (nothing changed)',
			'fingerprint' => $fp,
		);
	}
	$settings         = get_option( 'ai_provider_for_ollama_settings', array() );
	$settings         = is_array( $settings ) ? $settings : array();
	$settings['host'] = untrailingslashit( $url );
	update_option( 'ai_provider_for_ollama_settings', $settings );
	return array(
		'status'      => 'stored',
		'reason'      => sprintf( 'stored as the host of %s (Settings → Ollama); the connector key option is its Ollama Cloud API key and was left alone', $where['label'] ),
		'fingerprint' => aimo_bridge_fingerprint( $settings['host'] ), // what status reports for Ollama from now on
	);
}
