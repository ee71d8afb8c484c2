<?php
/**
 * Managed mode: providers in the AI Client, "X via aimo" connectors, model preferences, sampling rules,
 * Connector Approval, the credentials gate of WordPress AI, and the background model warm-up.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;

function aimo_bridge_managed_hooks(): void {
	// Official provider plugins register at init:5 and keep their ids; core builds connectors at init:15.
	add_action( 'init', 'aimo_bridge_register_providers', 10 );
	// After AI Engine (20) and AI Puffer (1000), so a take-over is not undone; without one we never replace theirs.
	add_action( 'wp_connectors_init', 'aimo_bridge_fix_connectors', 1100 );
	add_action( 'init', 'aimo_bridge_sync_approvals', 30 );
	add_action( 'init', 'aimo_bridge_schedule_warm', 30 );
	add_action( AIMO_BRIDGE_CRON_WARM, 'aimo_bridge_warm_models' );
	add_filter( 'wpai_preferred_text_models', 'aimo_bridge_prefer_text_model', 5 );
	add_filter( 'wpai_preferred_image_models', 'aimo_bridge_prefer_image_model', 5 );
	add_filter( 'wpai_has_ai_credentials', 'aimo_bridge_has_credentials', 20 );
	add_filter( 'http_request_args', 'aimo_bridge_filter_request_args', 20 );
	// The Ollama allowance of WordPress's SSRF guard is scoped to the bridge's own requests (Aimo_Bridge_Transporter).
	aimo_bridge_guard_hooks();
}

/** Whether the AI Client is available on this site. */
function aimo_bridge_ai_client_available(): bool {
	return function_exists( 'wp_supports_ai' ) && wp_supports_ai()
		&& class_exists( 'WordPress\\AiClient\\Providers\\ApiBasedImplementation\\AbstractApiProvider' );
}

function aimo_bridge_load_adapters(): bool {
	if ( ! aimo_bridge_ai_client_available() ) {
		return false;
	}
	require_once AIMO_BRIDGE_DIR . '/includes/adapters.php';
	return true;
}

/**
 * Register an adapter for every provider nothing else has registered. Official and community provider plugins
 * register before init:10 and always keep their ids, take-over or not (managers' gateways come later, at init:25
 * and init:1000, and a take-over demotes them to observe, so they no longer replace anything).
 */
function aimo_bridge_register_providers(): void {
	if ( ! aimo_bridge_load_adapters() ) {
		return;
	}
	$registry = AiClient::defaultRegistry();
	foreach ( array_keys( aimo_bridge_providers() ) as $id ) {
		if ( $registry->hasProvider( $id ) ) {
			continue; // an official or community provider plugin came first: it takes precedence
		}
		try {
			$registry->registerProvider( aimo_bridge_provider_class( $id ) );
		} catch ( Exception $e ) {
			wp_trigger_error( __FUNCTION__, $e->getMessage() );
		}
	}
}

/** Provider ids the AI Client currently serves through the bridge's adapters. */
function aimo_bridge_served_ids(): array {
	if ( ! class_exists( 'Aimo_Bridge_Provider', false ) || ! aimo_bridge_ai_client_available() ) {
		return array();
	}
	$registry = AiClient::defaultRegistry();
	$ids      = array();
	foreach ( array_keys( aimo_bridge_providers() ) as $id ) {
		try {
			if ( $registry->hasProvider( $id ) && is_subclass_of( $registry->getProviderClassName( $id ), 'Aimo_Bridge_Provider' ) ) {
				$ids[] = $id;
			}
		} catch ( Exception $e ) {
			continue;
		}
	}
	return $ids;
}

/**
 * Name our connectors "X via aimo" and point their plugin at the bridge (core's openai/anthropic/google entries
 * name the official plugins, so the page would say "Install" and WordPress AI would ignore them).
 */
function aimo_bridge_fix_connectors( $registry ): void {
	$taken_over = aimo_bridge_taken_over_ids();
	foreach ( aimo_bridge_served_ids() as $id ) {
		$conf = aimo_bridge_provider( $id );
		if ( ! in_array( $id, $taken_over, true ) && aimo_bridge_owned_by_other_manager( $registry, $id ) ) {
			continue; // another active manager's connector (or one it removed): reported by status, replaced only on take-over
		}
		$existing = $registry->is_registered( $id ) ? $registry->get_registered( $id ) : null;
		if ( $existing ) {
			$registry->unregister( $id );
		}
		$constant = aimo_bridge_key_constant( $id );
		$args     = array(
			'name'           => sprintf( /* translators: %s: provider name. */ __( '%s via aimo', 'aimo-bridge' ), $conf['name'] ),
			'description'    => 'ollama' === $id
				? __( 'Local or self-hosted models; the server URL is the credential. Managed with the aimo CLI.', 'aimo-bridge' )
				: sprintf( /* translators: %s: provider name. */ __( '%s models, served by the aimo bridge. Keys are managed with the aimo CLI.', 'aimo-bridge' ), $conf['name'] ),
			'type'           => 'ai_provider',
			'authentication' => array(
				'method'          => 'api_key',
				'credentials_url' => $conf['credentials_url'],
				'setting_name'    => aimo_bridge_setting_name( $id ),
				'constant_name'   => $constant,
				'env_var_name'    => $constant,
			),
			'plugin'         => array(
				'file'      => aimo_bridge_basename(),
				'is_active' => static function () use ( $id ): bool {
					return AiClient::defaultRegistry()->hasProvider( $id );
				},
			),
		);
		if ( ! empty( $existing['logo_url'] ) ) {
			$args['logo_url'] = $existing['logo_url'];
		}
		$registry->register( $id, $args );
	}
}

/**
 * Whether another manager owns a connector right now: an active manager plugin (its own mode managed) registered
 * or removed it during this wp_connectors_init, or its name says "… via X".
 */
function aimo_bridge_owned_by_other_manager( $registry, string $id ): bool {
	foreach ( array( aimo_bridge_registrant( $id ), aimo_bridge_unregistered_by( $id ) ) as $owner ) {
		$known = $owner ? aimo_bridge_manager_for_plugin( (string) $owner['file'] ) : null;
		if ( $known && aimo_bridge_known_manager_managing( $known ) ) {
			return true;
		}
	}
	if ( $registry->is_registered( $id ) ) {
		$existing = $registry->get_registered( $id );
		return null !== aimo_bridge_connector_manager( (string) ( $existing['name'] ?? '' ) );
	}
	return false;
}

/** Prepend a saved "provider:model" preference as a [provider, model] pair. */
function aimo_bridge_prepend_preference( $models, string $kind ): array {
	$models = is_array( $models ) ? $models : array();
	$ref    = aimo_bridge_models()[ $kind ];
	if ( '' === $ref ) {
		return $models;
	}
	[ $provider, $model ] = aimo_bridge_split_model_ref( $ref );
	if ( '' === $provider ) {
		return $models;
	}
	$pair   = array( $provider, $model );
	$models = array_values( array_filter( $models, static fn( $m ) => $m !== $pair && $m !== $model ) );
	array_unshift( $models, $pair );
	return $models;
}

function aimo_bridge_prefer_text_model( $models ): array {
	return aimo_bridge_prepend_preference( $models, 'text' );
}

function aimo_bridge_prefer_image_model( $models ): array {
	return aimo_bridge_prepend_preference( $models, 'image' );
}

/** WordPress AI's credentials gate: true when a provider the bridge serves has a key (or Ollama a URL). */
function aimo_bridge_has_credentials( $has ): bool {
	if ( $has ) {
		return true;
	}
	foreach ( aimo_bridge_served_ids() as $id ) {
		if ( '' !== aimo_bridge_effective_key( $id )[0] ) {
			return true;
		}
	}
	return false;
}

/**
 * Strip sampling parameters from every outgoing AI request whose model rejects them, whichever adapter (ours,
 * an official plugin's) built it: the AI Client sends through wp_safe_remote_request with a JSON body.
 */
function aimo_bridge_filter_request_args( $args ) {
	if ( ! is_array( $args ) || empty( $args['body'] ) || ! is_string( $args['body'] ) || '{' !== ( $args['body'][0] ?? '' ) ) {
		return $args;
	}
	if ( ! str_contains( $args['body'], '"model"' ) ) {
		return $args;
	}
	$body = json_decode( $args['body'], true );
	if ( ! is_array( $body ) ) {
		return $args;
	}
	$stripped = aimo_bridge_strip_sampling( $body );
	if ( $stripped !== $body ) {
		$args['body'] = (string) wp_json_encode( $stripped );
	}
	return $args;
}

/** Plugins pre-approved in WordPress AI's Connector Approval for the connectors the bridge serves. */
function aimo_bridge_approved_callers(): array {
	/**
	 * Filters the plugin basenames pre-approved to use the connectors the bridge serves.
	 *
	 * @param string[] $callers
	 */
	return array_values( array_filter( (array) apply_filters( 'aimo_approved_callers', array( 'ai/ai.php', aimo_bridge_basename() ) ), 'is_string' ) );
}

/** Add the approvals that are missing; never removes anybody's. Writes only when something changes. */
function aimo_bridge_sync_approvals(): void {
	$served = aimo_bridge_served_ids();
	if ( ! $served ) {
		return;
	}
	$approvals = get_option( 'wpai_connector_approvals', array() );
	$approvals = is_array( $approvals ) ? $approvals : array();
	$before    = $approvals;
	$added     = get_option( AIMO_BRIDGE_OPT_ADDED_APPROVALS, array() );
	$added     = is_array( $added ) ? $added : array();
	foreach ( aimo_bridge_approved_callers() as $caller ) {
		$current = is_array( $approvals[ $caller ] ?? null ) ? $approvals[ $caller ] : array();
		foreach ( $served as $id ) {
			if ( empty( $current[ $id ] ) ) {
				$added[] = $caller . '|' . $id; // ours to remove on uninstall (uninstall.php)
			}
			$current[ $id ] = true;
		}
		$approvals[ $caller ] = $current;
	}
	if ( $approvals !== $before ) {
		update_option( AIMO_BRIDGE_OPT_ADDED_APPROVALS, array_values( array_unique( $added ) ), false );
		update_option( 'wpai_connector_approvals', $approvals );
	}
}

function aimo_bridge_schedule_warm(): void {
	if ( ! wp_next_scheduled( AIMO_BRIDGE_CRON_WARM ) ) {
		wp_schedule_event( time() + MINUTE_IN_SECONDS, 'hourly', AIMO_BRIDGE_CRON_WARM );
	}
}

/**
 * Refresh model lists (and the connected state) for every keyed provider the bridge serves.
 *
 * @return array id => {connected, reason}
 */
function aimo_bridge_warm_models(): array {
	return aimo_bridge_warm_parallel( aimo_bridge_served_ids(), 'fresh' ); // all at once (includes/cache.php)
}

/**
 * A live check of one provider: list its models with the current key, bypassing every cache.
 *
 * @return array{connected: bool, reason: string}
 */
function aimo_bridge_check_provider( string $id ): array {
	$registry = AiClient::defaultRegistry();
	if ( ! $registry->hasProvider( $id ) ) {
		return array(
			'connected' => false,
			'reason'    => "no AI provider '{$id}' is registered",
		);
	}
	$class     = $registry->getProviderClassName( $id );
	$directory = $class::modelMetadataDirectory();
	$ours      = $directory instanceof Aimo_Bridge_Model_Directory;
	if ( $directory instanceof WordPress\AiClient\Common\Contracts\CachesDataInterface ) {
		$directory->invalidateCaches();
	}
	if ( $ours ) {
		Aimo_Bridge_Model_Directory::$live = true;
	}
	try {
		$directory->listModelMetadata();
		$result = array(
			'connected' => true,
			'reason'    => '',
		);
	} catch ( Throwable $e ) {
		$result = array(
			'connected' => false,
			'reason'    => aimo_bridge_error_reason( $e, $id ),
		);
	} finally {
		if ( $ours ) {
			Aimo_Bridge_Model_Directory::$live = false;
		}
	}
	aimo_bridge_remember_connected( $id, $result['connected'], $result['reason'] );
	return $result;
}

/** An exception message fit to show: no credential in it, not too long. */
function aimo_bridge_error_reason( Throwable $e, string $id, string $key = '' ): string {
	$reason = trim( $e->getMessage() );
	if ( '' === $reason ) {
		$reason = get_class( $e );
	}
	foreach ( array_filter( array( $key, aimo_bridge_effective_key( $id )[0] ) ) as $secret ) {
		if ( strlen( $secret ) >= 6 && 'ollama' !== $id ) {
			$reason = str_replace( $secret, '••••' . substr( $secret, -4 ), $reason );
		}
	}
	return mb_substr( $reason, 0, 500 );
}
