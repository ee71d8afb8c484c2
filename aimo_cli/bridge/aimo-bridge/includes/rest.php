<?php
/**
 * REST routes under aimo/v1, for administrators (manage_options) only; on multisite the routes that choose where
 * keys are sent (base-urls) or hand out a raw key (credentials/{id}) need a super admin (manage_network_options).
 * Every write validates the whole body before it changes anything.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;
use WordPress\AiClient\Providers\Http\DTO\ApiKeyRequestAuthentication;

function aimo_bridge_register_routes(): void {
	$ns      = 'aimo/v1';
	$admin   = 'aimo_bridge_rest_permission';
	$network = 'aimo_bridge_rest_network_permission';
	register_rest_route(
		$ns,
		'/status',
		array(
			'methods'             => 'GET',
			'callback'            => static fn( WP_REST_Request $r ) => rest_ensure_response( aimo_bridge_status( aimo_bridge_check_arg( $r['check'] ) ) ),
			'permission_callback' => $admin,
			'args'                => array(
				'check' => array( // 1: checked through the model-list cache; fresh: every provider live
					'type'    => 'string',
					'enum'    => array( '', '0', '1', 'false', 'true', 'fresh' ),
					'default' => '',
				),
			),
		)
	);
	register_rest_route(
		$ns,
		'/mode',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_mode',
			'permission_callback' => $admin,
			'args'                => array(
				'mode'      => array(
					'type'     => 'string',
					'required' => true,
					'enum'     => AIMO_BRIDGE_MODES,
				),
				'take_over' => array(
					'type'    => 'boolean',
					'default' => false,
				),
			),
		)
	);
	register_rest_route(
		$ns,
		'/models',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_models',
			'permission_callback' => $admin,
			'args'                => array(
				'text'  => array( 'type' => 'string' ),
				'image' => array( 'type' => 'string' ),
			),
		)
	);
	register_rest_route(
		$ns,
		'/credentials',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_put_credentials',
			'permission_callback' => $admin,
		)
	);
	register_rest_route(
		$ns,
		'/credentials/clear',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_clear_credentials',
			'permission_callback' => $admin,
		)
	);
	register_rest_route(
		$ns,
		'/credentials/(?P<id>[a-z0-9_-]+)',
		array(
			'methods'             => 'GET',
			'callback'            => 'aimo_bridge_rest_get_credential',
			'permission_callback' => $network,
		)
	);
	register_rest_route(
		$ns,
		'/base-urls',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_base_urls',
			'permission_callback' => $network,
		)
	);
	register_rest_route( // a dry run: the same permission and validation, the overrides it would store, nothing written
		$ns,
		'/base-urls/check',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_base_urls_check',
			'permission_callback' => $network,
		)
	);
}

/** 401 when nobody is logged in, 403 for a user without manage_options. */
function aimo_bridge_rest_permission() {
	if ( current_user_can( 'manage_options' ) ) {
		return true;
	}
	return new WP_Error( 'rest_forbidden', __( 'Sorry, you are not allowed to do that.' ), array( 'status' => rest_authorization_required_code() ) ); // phpcs:ignore WordPress.WP.I18n.MissingArgDomain -- core's own message, translated by WordPress itself.
}

/**
 * Reading a raw key and choosing where keys are sent: manage_options on a single site; on multisite a super admin
 * (manage_network_options), since wp-config constants and environment keys are shared by every site of the network
 * and a sub-site administrator must not be able to send them elsewhere or read the site's keys back.
 */
function aimo_bridge_rest_network_permission() {
	if ( current_user_can( is_multisite() ? 'manage_network_options' : 'manage_options' ) ) {
		return true;
	}
	return new WP_Error( 'rest_forbidden', __( 'Sorry, you are not allowed to do that.' ), array( 'status' => rest_authorization_required_code() ) ); // phpcs:ignore WordPress.WP.I18n.MissingArgDomain -- core's own message, translated by WordPress itself.
}

/** Whether the request being served comes from this machine (REMOTE_ADDR on loopback; proxy headers ignored). */
function aimo_bridge_request_from_loopback(): bool {
	$remote = isset( $_SERVER['REMOTE_ADDR'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REMOTE_ADDR'] ) ) : '';
	if ( str_starts_with( $remote, '::ffff:' ) ) {
		$remote = substr( $remote, 7 );
	}
	return '' !== $remote && aimo_bridge_is_loopback_host( $remote );
}

function aimo_bridge_error( string $code, string $message, int $status = 400, array $extra = array() ): WP_Error {
	return new WP_Error( $code, $message, array_merge( array( 'status' => $status ), $extra ) );
}

/** The JSON body as an object (id => value), or a 400. */
function aimo_bridge_json_object( WP_REST_Request $request ) {
	$body = $request->get_json_params();
	if ( ! is_array( $body ) || ( $body && array_is_list( $body ) ) ) {
		return aimo_bridge_error( 'aimo_invalid_body', __( 'The body must be a JSON object.', 'aimo-bridge' ) );
	}
	return $body;
}

function aimo_bridge_rest_mode( WP_REST_Request $request ) {
	$mode      = (string) $request['mode'];
	$take_over = (bool) $request['take_over'];
	$previous  = aimo_bridge_mode();
	$result    = array(
		'demoted'  => array(),
		'replaced' => array(),
	);
	if ( 'managed' === $mode ) {
		$managers = aimo_bridge_detect_managers();
		$busy     = array_values( array_filter( $managers, 'aimo_bridge_manager_is_managing' ) );
		if ( $busy && ! $take_over ) {
			return aimo_bridge_error(
				'aimo_conflict',
				sprintf(
					/* translators: %s: plugin name. */
					__( '%s is managing the connectors. Take over (it is switched to observe; its keys are untouched), or leave it in charge.', 'aimo-bridge' ),
					$busy[0]['name']
				),
				409,
				array( 'manager' => $busy[0]['name'] )
			);
		}
		if ( $take_over ) {
			$result = aimo_bridge_take_over( $managers );
		}
	} else {
		// Stopping never touches keys: only our own registrations, schedules and take-over marks go.
		delete_option( AIMO_BRIDGE_OPT_TAKEN_OVER );
		wp_clear_scheduled_hook( AIMO_BRIDGE_CRON_WARM );
	}
	update_option( AIMO_BRIDGE_OPT_MODE, $mode, true );
	return rest_ensure_response(
		array(
			'mode'     => $mode,
			'previous' => $previous,
			'demoted'  => $result['demoted'],
			'replaced' => $result['replaced'],
		)
	);
}

/** Whether a provider is connected now: registered, keyed, and its model list answers (cached answers count). */
function aimo_bridge_provider_connected( string $id ): bool {
	if ( ! aimo_bridge_ai_client_available() ) {
		return false;
	}
	$registry = AiClient::defaultRegistry();
	return $registry->hasProvider( $id ) && $registry->isProviderConfigured( $id );
}

function aimo_bridge_rest_models( WP_REST_Request $request ) {
	$body = aimo_bridge_json_object( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$busy = aimo_bridge_competitor();
	if ( $busy ) {
		return aimo_bridge_competitor_error( $busy );
	}
	$models = aimo_bridge_models();
	$new    = $models;
	foreach ( array( 'text', 'image' ) as $kind ) {
		if ( ! array_key_exists( $kind, $body ) ) {
			continue;
		}
		$ref = $body[ $kind ];
		if ( null === $ref || '' === $ref ) {
			$new[ $kind ] = '';
			continue;
		}
		[ $provider, $model ] = aimo_bridge_split_model_ref( (string) $ref );
		if ( '' === $provider ) {
			return aimo_bridge_error( 'aimo_invalid_model', sprintf( /* translators: %s: value. */ __( '"%s" is not "provider:model" (or "" for Automatic).', 'aimo-bridge' ), $ref ), 400, array( 'field' => $kind ) );
		}
		if ( ! aimo_bridge_provider_connected( $provider ) ) {
			return aimo_bridge_error(
				'aimo_disconnected_provider',
				sprintf( /* translators: %s: provider id. */ __( 'Provider %s is not connected on this site: set its key first (aimo keys set, aimo sync push).', 'aimo-bridge' ), $provider ),
				400,
				array(
					'provider' => $provider,
					'field'    => $kind,
				)
			);
		}
		$new[ $kind ] = $provider . ':' . $model;
	}
	if ( $new !== $models ) {
		update_option( AIMO_BRIDGE_OPT_MODELS, $new, true );
	}
	return rest_ensure_response( $new );
}

function aimo_bridge_rest_put_credentials( WP_REST_Request $request ) {
	$body = aimo_bridge_json_object( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	if ( ! $body ) {
		return aimo_bridge_error( 'aimo_invalid_body', __( 'No credentials given: send {"provider_id": "key", …}.', 'aimo-bridge' ) );
	}
	$known = array_keys( aimo_bridge_providers() );
	foreach ( $body as $id => $key ) {
		if ( ! in_array( (string) $id, $known, true ) ) {
			return aimo_bridge_error( 'aimo_unknown_provider', sprintf( /* translators: %s: id. */ __( 'Unknown provider id "%s".', 'aimo-bridge' ), $id ), 400, array( 'provider' => (string) $id ) );
		}
		if ( ! is_string( $key ) ) {
			return aimo_bridge_error( 'aimo_invalid_body', sprintf( /* translators: %s: id. */ __( 'The credential for "%s" must be a string.', 'aimo-bridge' ), $id ), 400, array( 'provider' => (string) $id ) );
		}
	}
	$busy = aimo_bridge_competitor();
	if ( $busy ) {
		return aimo_bridge_competitor_error( $busy );
	}
	$results = array();
	foreach ( $body as $id => $key ) {
		$results[ $id ] = aimo_bridge_store_credential( (string) $id, $key );
	}
	return rest_ensure_response( array( 'results' => $results ) );
}

/**
 * A safe write: validate through the AI Client first; never replace a stored key with an empty, masked or
 * rejected value.
 */
function aimo_bridge_store_credential( string $id, string $key ): array {
	$setting = aimo_bridge_setting_name( $id );
	$key     = sanitize_text_field( $key );
	$stored  = get_option( $setting, '' );
	$stored  = is_string( $stored ) ? $stored : '';
	$result  = static fn( string $status, string $reason, string $value, array $extra = array() ) => array_merge(
		array(
			'status'      => $status,
			'reason'      => $reason,
			'fingerprint' => aimo_bridge_fingerprint( $value ),
		),
		$extra
	);
	if ( '' === $key ) {
		return $result( 'rejected', 'empty value: an empty credential never replaces a stored one (nothing changed)', $stored );
	}
	if ( str_contains( $key, "\u{2022}" ) ) {
		return $result( 'rejected', 'masked value (contains •): only a real key can be stored (nothing changed)', $stored );
	}
	if ( $key === $stored ) {
		return $result( 'unchanged', '', $stored );
	}
	if ( ! aimo_bridge_ai_client_available() || ! AiClient::defaultRegistry()->hasProvider( $id ) ) {
		return $result(
			'rejected',
			sprintf( 'no AI provider "%s" is registered on this site (bridge mode: %s), so the key cannot be validated; switch the bridge to managed mode', $id, aimo_bridge_mode() ),
			$stored
		);
	}
	if ( 'ollama' === $id && aimo_bridge_ollama_plugin_host() ) {
		return aimo_bridge_store_ollama_host( $key, $stored );
	}
	$check = aimo_bridge_validate_key_anywhere( $id, $key );
	if ( ! $check['valid'] ) {
		$cause = array_intersect_key( $check, array_flip( array( 'cause', 'url', 'http_status' ) ) );
		if ( 'refused' === $check['cause'] ) {
			return $result( 'rejected', 'the provider refused it: ' . $check['reason'] . ' (nothing changed)', $stored, $cause );
		}
		return $result( 'unreachable', 'the site could not reach the provider to check the key: ' . $check['reason'] . ' (nothing changed)', $stored, $cause );
	}
	$created                        = false === get_option( $setting, false );
	$GLOBALS['aimo_bridge_writing'] = true;
	try {
		update_option( $setting, $key );
	} finally {
		$GLOBALS['aimo_bridge_writing'] = false;
	}
	if ( $created ) {
		$list   = (array) get_option( AIMO_BRIDGE_OPT_CREATED_KEYS, array() );
		$list[] = $setting;
		update_option( AIMO_BRIDGE_OPT_CREATED_KEYS, array_values( array_unique( $list ) ), false );
	}
	aimo_bridge_remember_connected( $id, true, '' );
	$reason = (string) ( $check['note'] ?? '' );
	$source = aimo_bridge_effective_key( $id )[1];
	if ( in_array( $source, array( 'env', 'constant' ), true ) ) {
		$reason = ( '' !== $reason ? $reason . '; ' : '' ) . sprintf( 'stored, but the site takes this key from the %s %s, which wins over the database', 'env' === $source ? 'environment variable' : 'constant', aimo_bridge_key_constant( $id ) );
	}
	return $result( 'stored', $reason, $key );
}

/**
 * Set the key on the AI Client registry, drop the cached model list (cached per provider class, not per key),
 * and list models live. On failure the previous authentication is restored.
 *
 * @return array{valid: bool, reason: string}
 */
function aimo_bridge_validate_key( string $id, string $key ): array {
	$registry  = AiClient::defaultRegistry();
	$previous  = $registry->getProviderRequestAuthentication( $id );
	$class     = $registry->getProviderClassName( $id );
	$directory = $class::modelMetadataDirectory();
	$ours      = $directory instanceof Aimo_Bridge_Model_Directory;
	$registry->setProviderRequestAuthentication( $id, new ApiKeyRequestAuthentication( $key ) );
	if ( $directory instanceof WordPress\AiClient\Common\Contracts\CachesDataInterface ) {
		$directory->invalidateCaches();
	}
	if ( $ours ) {
		Aimo_Bridge_Model_Directory::$live = true;
	}
	if ( 'ollama' === $id ) {
		$GLOBALS['aimo_bridge_ollama_candidate'] = $key;
	}
	try {
		$directory->listModelMetadata();
		return array(
			'valid'  => true,
			'reason' => '',
			'cause'  => '',
		);
	} catch ( Throwable $e ) {
		if ( $previous ) {
			$registry->setProviderRequestAuthentication( $id, $previous );
		}
		if ( $directory instanceof WordPress\AiClient\Common\Contracts\CachesDataInterface ) {
			$directory->invalidateCaches();
		}
		return array_merge(
			array(
				'valid'  => false,
				'reason' => aimo_bridge_error_reason( $e, $id, $key ),
			),
			aimo_bridge_failure_cause( $e )
		);
	} finally {
		unset( $GLOBALS['aimo_bridge_ollama_candidate'] );
		if ( $ours ) {
			Aimo_Bridge_Model_Directory::$live = false;
		}
	}
}

/**
 * Why a key check failed: "refused" when the provider answered 400/401/403 (the key is bad), "unreachable" for
 * everything else — DNS, connect, timeout, a URL wp_safe_remote_request blocks, 404, 429, 5xx, a malformed answer.
 *
 * @return array{cause: string, url: string, http_status: int}
 */
function aimo_bridge_failure_cause( Throwable $e ): array {
	$url = '';
	if ( method_exists( $e, 'getRequest' ) ) {
		try {
			$url = (string) $e->getRequest()->getUri();
		} catch ( Throwable $ignored ) {
			$url = '';
		}
	}
	$url    = (string) preg_replace( '/[?#].*$/', '', $url ); // never a query (Ollama credentials, tokens)
	$status = $e instanceof WordPress\AiClient\Providers\Http\Exception\ClientException ? (int) $e->getCode() : 0;
	return array(
		'cause'       => in_array( $status, array( 400, 401, 403 ), true ) ? 'refused' : 'unreachable',
		'url'         => $url,
		'http_status' => $status,
	);
}

/** True only while aimo's explicit removal route (POST /aimo/v1/credentials/clear) empties a connector option. */
function aimo_bridge_is_explicit_removal(): bool {
	return ! empty( $GLOBALS['aimo_bridge_clearing'] );
}

/**
 * aimo's one deliberate way to take a key off a site: body {"providers": ["groq", …]}; managed mode only.
 * Deleting the option fires the change log's delete hook (action "deleted", by aimo).
 */
function aimo_bridge_rest_clear_credentials( WP_REST_Request $request ) {
	$body = aimo_bridge_json_object( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$ids = $body['providers'] ?? null;
	if ( ! is_array( $ids ) || ! $ids ) {
		return aimo_bridge_error( 'aimo_invalid_body', __( 'Send {"providers": ["provider_id", …]}.', 'aimo-bridge' ) );
	}
	$known = array_keys( aimo_bridge_providers() );
	foreach ( $ids as $id ) {
		if ( ! is_string( $id ) || ! in_array( $id, $known, true ) ) {
			return aimo_bridge_error( 'aimo_unknown_provider', sprintf( /* translators: %s: id. */ __( 'Unknown provider id "%s".', 'aimo-bridge' ), is_string( $id ) ? $id : gettype( $id ) ), 400 );
		}
	}
	$results = array();
	foreach ( array_unique( $ids ) as $id ) {
		$setting = aimo_bridge_setting_name( $id );
		$stored  = get_option( $setting, '' );
		$stored  = is_string( $stored ) ? $stored : '';
		if ( 'managed' !== aimo_bridge_mode() ) {
			$results[ $id ] = array(
				'status'               => 'refused',
				'reason'               => sprintf( 'the bridge is in %s mode: only managed mode lets aimo change keys', aimo_bridge_mode() ),
				'previous_fingerprint' => aimo_bridge_fingerprint( $stored ),
			);
			continue;
		}
		if ( '' === $stored ) {
			$results[ $id ] = array(
				'status'               => 'absent',
				'reason'               => 'the site holds no key for this provider',
				'previous_fingerprint' => '',
			);
			continue;
		}
		$GLOBALS['aimo_bridge_clearing'] = true;
		$GLOBALS['aimo_bridge_writing']  = true;
		try {
			delete_option( $setting );
		} finally {
			$GLOBALS['aimo_bridge_clearing'] = false;
			$GLOBALS['aimo_bridge_writing']  = false;
		}
		$results[ $id ] = array(
			'status'               => false === get_option( $setting, false ) ? 'cleared' : 'refused',
			'reason'               => '',
			'previous_fingerprint' => aimo_bridge_fingerprint( $stored ),
		);
	}
	return rest_ensure_response( array( 'results' => $results ) );
}

function aimo_bridge_rest_get_credential( WP_REST_Request $request ) {
	$id = (string) $request['id'];
	if ( ! aimo_bridge_provider( $id ) && ! wp_get_connector( $id ) ) {
		return aimo_bridge_error( 'aimo_unknown_provider', sprintf( /* translators: %s: id. */ __( 'Unknown provider id "%s".', 'aimo-bridge' ), $id ), 404 );
	}
	/**
	 * Filters whether raw keys may be read over REST on this request (default: over https, or over http from this
	 * machine itself — the request's REMOTE_ADDR on loopback; a site that merely calls itself "local" is not enough).
	 *
	 * @param bool $allowed
	 */
	if ( ! apply_filters( 'aimo_allow_credential_read', is_ssl() || aimo_bridge_request_from_loopback() ) ) {
		return aimo_bridge_error(
			'aimo_insecure_transport',
			__( 'Refusing to send a raw key over plain http to another machine: use the site over https (plain http is only allowed from the site\'s own machine, 127.0.0.1 or ::1).', 'aimo-bridge' ),
			403
		);
	}
	$key    = get_option( aimo_bridge_setting_name( $id ), '' );
	$ollama = 'ollama' === $id ? aimo_bridge_ollama_plugin_host() : null;
	if ( $ollama ) { // AI Provider for Ollama: aimo's Ollama credential is that plugin's server URL
		$key = 'setting' === $ollama['source'] ? $ollama['host'] : '';
	}
	nocache_headers();
	return rest_ensure_response(
		array(
			'id'         => $id,
			'key'        => is_string( $key ) ? $key : '',
			'key_source' => aimo_bridge_effective_key( $id )[1],
		)
	);
}

function aimo_bridge_rest_base_urls( WP_REST_Request $request ) {
	$overrides = aimo_bridge_base_urls_from( $request );
	if ( is_wp_error( $overrides ) ) {
		return $overrides;
	}
	update_option( AIMO_BRIDGE_OPT_BASE_URLS, $overrides, true );
	return rest_ensure_response( (object) $overrides );
}

function aimo_bridge_rest_base_urls_check( WP_REST_Request $request ) {
	$overrides = aimo_bridge_base_urls_from( $request );
	return is_wp_error( $overrides ) ? $overrides : rest_ensure_response( (object) $overrides );
}

/**
 * The overrides a base-urls body asks for, validated whole (nothing is stored here), or the first error.
 *
 * @param WP_REST_Request $request The request: {id: url|null}.
 * @return array<string, string>|WP_Error
 */
function aimo_bridge_base_urls_from( WP_REST_Request $request ) {
	$body = aimo_bridge_json_object( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$overrides = aimo_bridge_base_url_overrides();
	foreach ( $body as $id => $url ) {
		if ( ! aimo_bridge_provider( (string) $id ) ) {
			return aimo_bridge_error( 'aimo_unknown_provider', sprintf( /* translators: %s: id. */ __( 'Unknown provider id "%s".', 'aimo-bridge' ), $id ), 400, array( 'provider' => (string) $id ) );
		}
		if ( null === $url || '' === $url ) {
			unset( $overrides[ $id ] );
			continue;
		}
		$parts = is_string( $url ) ? wp_parse_url( $url ) : false;
		if ( ! $parts || ! in_array( strtolower( $parts['scheme'] ?? '' ), array( 'http', 'https' ), true ) || empty( $parts['host'] ) || preg_match( '/\s/', $url ) ) {
			return aimo_bridge_error( 'aimo_invalid_url', sprintf( /* translators: %s: id. */ __( 'The base URL for "%s" must be an absolute http(s) URL, or null to remove it.', 'aimo-bridge' ), $id ), 400, array( 'provider' => (string) $id ) );
		}
		// Keys travel to this URL in the clear over http: only to this machine itself.
		if ( 'https' !== strtolower( $parts['scheme'] ) && ! aimo_bridge_is_loopback_host( (string) $parts['host'] ) ) {
			return aimo_bridge_error(
				'aimo_insecure_url',
				sprintf( /* translators: 1: id, 2: host. */ __( 'The base URL for "%1$s" must use https: keys would cross the network in the clear to %2$s (plain http is only allowed to this machine: 127.0.0.1, ::1, localhost).', 'aimo-bridge' ), $id, $parts['host'] ),
				400,
				array( 'provider' => (string) $id )
			);
		}
		$overrides[ $id ] = untrailingslashit( $url );
	}
	ksort( $overrides );
	return $overrides;
}
