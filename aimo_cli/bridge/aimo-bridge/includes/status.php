<?php
/**
 * The status report aimo reads in one request: versions, mode, every AI connector, managers, approvals,
 * model preferences, sampling rules and the change log. Its shape is the contract in contract/status.schema.json
 * (the one description both sides test against): a new field goes there too.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;

/**
 * @param bool|string $check false: the last known state; true/'1': check the providers, from the model-list cache
 *                           where it holds an answer still in its time, the others live and all at once; 'fresh':
 *                           every provider live (all at once).
 */
function aimo_bridge_status( $check = false ): array {
	if ( ! function_exists( 'is_plugin_active' ) ) {
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
	}
	$approvals = get_option( 'wpai_connector_approvals', array() );
	$approved  = array();
	foreach ( is_array( $approvals ) ? $approvals : array() as $basename => $ids ) {
		$approved[ $basename ] = array_keys( array_filter( (array) $ids ) );
	}
	$log = get_option( AIMO_BRIDGE_OPT_LOG, array() );
	return array(
		'bridge_version'       => AIMO_BRIDGE_VERSION,
		'wordpress_version'    => get_bloginfo( 'version' ),
		'php_version'          => PHP_VERSION,
		'mode'                 => aimo_bridge_mode(),
		'ai_supported'         => function_exists( 'wp_supports_ai' ) && wp_supports_ai(),
		'environment_type'     => wp_get_environment_type(),
		'https'                => is_ssl() || str_starts_with( home_url(), 'https://' ),
		'home'                 => home_url(),
		'site_id'              => aimo_bridge_site_id(),
		'wpai_active'          => is_plugin_active( 'ai/ai.php' ),
		'connectors'           => aimo_bridge_connector_report( $check ),
		'managers'             => aimo_bridge_detect_managers(),
		'approval'             => array(
			'active'   => (bool) get_option( 'wpai_features_enabled' ) && (bool) get_option( 'wpai_feature_connector-approval_enabled' ),
			'approved' => (object) $approved,
		),
		'models'               => aimo_bridge_models(),
		'no_sampling_prefixes' => aimo_bridge_no_sampling_prefixes(),
		'change_log'           => is_array( $log ) ? array_values( $log ) : array(),
		'current_user'         => aimo_bridge_current_user(),
	);
}

/**
 * Who asked, as GET /wp/v2/users/me?context=edit names them (id, slug, roles), and whether they may manage options:
 * aimo doctor and aimo site test need no users/me request when the bridge answers.
 */
function aimo_bridge_current_user(): array {
	$user = wp_get_current_user();
	return array(
		'id'             => (int) $user->ID,
		'slug'           => (string) $user->user_nicename,
		'roles'          => array_values( array_map( 'strval', (array) $user->roles ) ),
		'manage_options' => current_user_can( 'manage_options' ),
	);
}

/** A random id the bridge keeps for this site: aimo tells two profiles of one WordPress apart by it (and by home). */
function aimo_bridge_site_id(): string {
	$id = get_option( 'aimo_bridge_site_id', '' );
	if ( ! is_string( $id ) || ! preg_match( '/^[0-9a-f-]{36}$/', $id ) ) {
		$id = wp_generate_uuid4();
		update_option( 'aimo_bridge_site_id', $id, true );
	}
	return $id;
}

/** Our providers (aimo's provider manifest), then any other AI connector registered on the site. */
function aimo_bridge_connector_report( $check ): array {
	$connectors = wp_get_connectors();
	$ids        = array_keys( aimo_bridge_providers() );
	foreach ( $connectors as $id => $connector ) {
		if ( 'ai_provider' === ( $connector['type'] ?? '' ) && ! in_array( $id, $ids, true ) ) {
			$ids[] = $id;
		}
	}
	$ai = aimo_bridge_ai_client_available() ? AiClient::defaultRegistry() : null;
	if ( $check && $ai ) {
		aimo_bridge_warm_parallel( aimo_bridge_served_ids(), 'fresh' === $check ? 'fresh' : 'due' ); // includes/cache.php
	}
	$cache  = aimo_bridge_connected_cache();
	$report = array();
	foreach ( $ids as $id ) {
		$connector  = $connectors[ $id ] ?? null;
		$conf       = aimo_bridge_provider( $id );
		$registered = $ai && $ai->hasProvider( $id );
		$class      = $registered ? $ai->getProviderClassName( $id ) : '';
		$ours       = $class && is_subclass_of( $class, 'Aimo_Bridge_Provider' );
		$name       = (string) ( $connector['name'] ?? ( $conf['name'] ?? ucwords( $id ) ) );
		$serving    = aimo_bridge_serving( $id );
		$registrant = $connector ? aimo_bridge_registrant( $id ) : null;
		if ( $registrant && 'core' === $registrant['kind'] && $serving && 'plugin' === $serving['kind'] && ! $serving['gateway'] ) {
			$registrant = array( // core registers the connector of a provider plugin's AI Client provider for it
				'kind'    => 'plugin',
				'file'    => $serving['plugin'],
				'name'    => $serving['name'],
				'version' => $serving['version'],
			);
		}
		$known      = $registrant ? aimo_bridge_manager_for_plugin( (string) $registrant['file'] ) : null;
		$manager    = $known ? $known['name'] : aimo_bridge_connector_manager( $name ); // a manager's connector, by behaviour or by "… via X"
		$auth       = $connector['authentication'] ?? array();
		$setting    = (string) ( $auth['setting_name'] ?? aimo_bridge_setting_name( $id ) );
		$constant   = (string) ( $auth['constant_name'] ?? aimo_bridge_key_constant( $id ) );
		$stored     = get_option( $setting, '' );
		$stored     = is_string( $stored ) ? $stored : '';
		$ollama     = 'ollama' === $id ? aimo_bridge_ollama_plugin_host() : null;
		$key_source = function_exists( '_wp_connectors_get_api_key_source' )
			? _wp_connectors_get_api_key_source( $setting, (string) ( $auth['env_var_name'] ?? $constant ), $constant )
			: aimo_bridge_effective_key( $id )[1];
		if ( $ollama ) {
			// aimo's Ollama credential is the server URL: with AI Provider for Ollama it is that plugin's host (its
			// connector key option is an Ollama Cloud API key, never compared with aimo's URLs)
			$stored     = 'default' === $ollama['source'] ? '' : (string) $ollama['host'];
			$key_source = array(
				'env'     => 'env',
				'setting' => 'database',
				'default' => 'none',
			)[ $ollama['source'] ];
		}

		if ( ! $connector ) {
			$registered_by = 'none';
		} elseif ( null !== $manager ) {
			$registered_by = 'manager';
		} elseif ( $registrant && 'aimo' === $registrant['kind'] ) {
			$registered_by = 'aimo';
		} elseif ( $registrant && in_array( $registrant['kind'], array( 'plugin', 'mu-plugin' ), true ) ) {
			$registered_by = 'plugin';
		} elseif ( $registrant ) {
			$registered_by = 'core';
		} else {
			$registered_by = $ours ? 'aimo' : ( $registered ? 'plugin' : 'core' );
		}

		if ( $check ) {
			if ( ! $registered ) {
				$state = array(
					'connected' => false,
					'reason'    => 'no AI provider is registered for this connector',
				);
				aimo_bridge_remember_connected( $id, false, $state['reason'] );
			} elseif ( 'none' === $key_source ) {
				$state = array(
					'connected' => false,
					'reason'    => 'no key is set',
				);
				aimo_bridge_remember_connected( $id, false, $state['reason'] );
			} elseif ( ! $ours || ! aimo_bridge_has_cached_list( $id ) ) {
				aimo_bridge_check_provider( $id ); // another plugin's provider (or no cached answer): live, on its own
			}
			$cache = aimo_bridge_connected_cache();
		}
		$last     = $cache[ $id ] ?? null;
		$base_url = $conf ? aimo_bridge_base_url( $id ) : '';
		$report[] = array(
			'id'                  => $id,
			'name'                => $name,
			'type'                => (string) ( $connector['type'] ?? 'ai_provider' ),
			'registered_by'       => $registered_by,
			'manager'             => $manager,
			'provider_registered' => $registered,
			'setting_name'        => $setting,
			'key_source'          => $key_source,
			'fingerprint'         => aimo_bridge_fingerprint( $stored ),
			'mask_tail'           => aimo_bridge_mask_tail( $stored ),
			'connected'           => is_array( $last ) ? $last['connected'] : null,
			'connected_reason'    => is_array( $last ) ? (string) $last['reason'] : '',
			'checked_at'          => is_array( $last ) ? $last['checked_at'] : null,
			'base_url_source'     => $conf ? aimo_bridge_base_url_source( $id ) : 'default',
			// Only where the serving class honours it (the bridge's adapters); another plugin's class ignores it.
			'base_url'            => '' !== $base_url && ( $ours || ! $registered ) ? $base_url : null,
			'registrant'          => $registrant ? array_merge( $registrant, array( 'label' => aimo_bridge_plugin_label( $registrant ) ) ) : null,
			'served_by'           => $serving,
			'ollama_host'         => 'ollama' === $id ? aimo_bridge_ollama_plugin_host() : null,
			'unreachable_since'   => $ours ? aimo_bridge_unreachable( $id )['since'] ?? null : null,
			'page'                => null,
		);
	}
	// What Settings → Connectors shows, by its own logic; after the live checks, so it reads their fresh answers.
	$page_data = aimo_bridge_page_connectors();
	foreach ( $report as $i => $row ) {
		$page                 = $page_data[ $row['id'] ] ?? null;
		$report[ $i ]['page'] = array(
			'visible'   => null !== $page,
			'connected' => is_array( $page ) && ! empty( $page['authentication']['isConnected'] ),
			'name'      => is_array( $page ) ? (string) ( $page['name'] ?? '' ) : '',
		);
	}
	return $report;
}
