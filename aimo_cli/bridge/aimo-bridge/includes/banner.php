<?php
/**
 * Settings → Connectors: aimo's banner and the WordPress AI model pickers.
 *
 * The page is a React app mounted on #options-connectors-wp-admin-app. The banner lives in its own <section>,
 * printed before that root on `all_admin_notices` (core hides <div>s there, not <section>s) and filled by
 * assets/banner.js; React's nodes are never touched. States:
 *
 *   observe              what aimo would do; Enable, Dismiss (the dismissal is honoured in observe mode only)
 *   observe + a manager  amber, names it; Take over, Dismiss
 *   managed              green "Managed by aimo"; Stop; Text and Image model pickers
 *   managed + a manager  amber: it overrode aimo; Take back control, Stop; cannot be dismissed
 *   off                  nothing at all
 *
 * Every control goes through aimo/v1 with the admin's REST nonce (wp.apiFetch): the bridge's `mode` and `models`
 * routes, and the two registered here: GET models (connected providers' model lists) and POST banner (dismissal).
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;

const AIMO_BRIDGE_OPT_BANNER_DISMISSED = 'aimo_connectors_banner_dismissed';

add_action( 'rest_api_init', 'aimo_bridge_banner_routes' );
add_action( 'admin_enqueue_scripts', 'aimo_bridge_banner_enqueue' );
add_action( 'all_admin_notices', 'aimo_bridge_banner_host' );
// A dismissal belongs to the observe banner the admin saw: any change of mode shows the banner again.
add_action( 'update_option_' . AIMO_BRIDGE_OPT_MODE, 'aimo_bridge_banner_reset_dismissal' );

function aimo_bridge_banner_routes(): void {
	register_rest_route(
		'aimo/v1',
		'/models',
		array(
			'methods'             => 'GET',
			'callback'            => 'aimo_bridge_rest_get_models',
			'permission_callback' => 'aimo_bridge_rest_permission',
			'args'                => array(
				'refresh' => array(
					'type'    => 'boolean',
					'default' => false,
				),
			),
		)
	);
	register_rest_route(
		'aimo/v1',
		'/banner',
		array(
			'methods'             => 'POST',
			'callback'            => 'aimo_bridge_rest_banner',
			'permission_callback' => 'aimo_bridge_rest_permission',
			'args'                => array(
				'dismissed' => array(
					'type'     => 'boolean',
					'required' => true,
				),
			),
		)
	);
}

/** POST aimo/v1/banner {dismissed: bool}: store or clear the observe-mode dismissal. */
function aimo_bridge_rest_banner( WP_REST_Request $request ) {
	$body = aimo_bridge_json_object( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$dismissed = (bool) $request['dismissed']; // validated and made a boolean by the route's schema
	if ( $dismissed ) {
		update_option( AIMO_BRIDGE_OPT_BANNER_DISMISSED, 1, false );
	} else {
		delete_option( AIMO_BRIDGE_OPT_BANNER_DISMISSED );
	}
	return rest_ensure_response(
		array(
			'dismissed' => $dismissed,
			'shown'     => aimo_bridge_banner_visible( aimo_bridge_banner_state() ),
		)
	);
}

/** GET aimo/v1/models[?refresh=1]: the model lists of connected providers, and the saved preferences. */
function aimo_bridge_rest_get_models( WP_REST_Request $request ) {
	return rest_ensure_response(
		array(
			'selected'  => aimo_bridge_models(),
			'providers' => aimo_bridge_connected_model_lists( (bool) $request['refresh'] ),
			'refreshed' => (bool) $request['refresh'],
		)
	);
}

/**
 * Text and image models of every connected provider (one the AI Client has, with a key, that lists its models).
 * Lists come from the AI Client's model directories, so the bridge's own transients serve them; `$refresh` asks
 * every provider again first (a live check for the bridge's adapters, a cleared cache for anybody else's).
 *
 * @return array[] Each: id, name, text: [{id, name}], image: [{id, name}]; sorted by name.
 */
function aimo_bridge_connected_model_lists( bool $refresh = false ): array {
	if ( ! aimo_bridge_ai_client_available() ) {
		return array();
	}
	$registry = AiClient::defaultRegistry();
	$served   = aimo_bridge_served_ids();
	$out      = array();
	foreach ( aimo_bridge_providers() as $id => $conf ) {
		if ( ! $registry->hasProvider( $id ) || '' === aimo_bridge_effective_key( $id )[0] ) {
			continue;
		}
		try {
			$class     = $registry->getProviderClassName( $id );
			$directory = $class::modelMetadataDirectory();
			if ( $refresh && in_array( $id, $served, true ) ) {
				if ( ! aimo_bridge_check_provider( $id )['connected'] ) {
					continue; // a stale transient must not bring it back
				}
			} elseif ( $refresh && $directory instanceof WordPress\AiClient\Common\Contracts\CachesDataInterface ) {
				$directory->invalidateCaches();
			}
			if ( ! aimo_bridge_provider_connected( $id ) ) {
				continue;
			}
			$lists = array(
				'text'  => array(),
				'image' => array(),
			);
			foreach ( $directory->listModelMetadata() as $model ) {
				$kind = null;
				foreach ( $model->getSupportedCapabilities() as $capability ) {
					if ( $capability->isImageGeneration() ) {
						$kind = 'image';
						break;
					}
					if ( $capability->isTextGeneration() ) {
						$kind = 'text';
					}
				}
				if ( $kind ) {
					$lists[ $kind ][] = array(
						'id'   => $model->getId(),
						'name' => $model->getName(),
					);
				}
			}
		} catch ( Throwable $e ) {
			continue; // not connected after all: it is left out, like any other unconnected provider
		}
		foreach ( $lists as &$list ) {
			usort( $list, static fn( $a, $b ) => strnatcasecmp( $a['name'], $b['name'] ) );
		}
		unset( $list );
		$out[] = array(
			'id'    => $id,
			'name'  => (string) $conf['name'],
			'text'  => $lists['text'],
			'image' => $lists['image'],
		);
	}
	usort( $out, static fn( $a, $b ) => strnatcasecmp( $a['name'], $b['name'] ) );
	return $out;
}

function aimo_bridge_banner_reset_dismissal(): void {
	delete_option( AIMO_BRIDGE_OPT_BANNER_DISMISSED );
}

/** Whether the page is Settings → Connectors. */
function aimo_bridge_banner_on_page(): bool {
	$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
	return $screen && 'options-connectors' === $screen->id && current_user_can( 'manage_options' );
}

/**
 * What the banner shows, as banner.js reads it.
 *
 * @return array{mode: string, dismissed: bool, managers: string[], providers: array[], models: array}
 */
function aimo_bridge_banner_state(): array {
	$mode     = aimo_bridge_mode();
	$managers = array();
	foreach ( aimo_bridge_detect_managers() as $manager ) {
		if ( aimo_bridge_manager_is_managing( $manager ) ) {
			$managers[] = (string) $manager['name'];
		}
	}
	$registry  = aimo_bridge_ai_client_available() ? AiClient::defaultRegistry() : null;
	$served    = 'managed' === $mode ? aimo_bridge_served_ids() : array();
	$providers = array();
	foreach ( aimo_bridge_providers() as $id => $conf ) {
		$ours = in_array( $id, $served, true );
		// In observe mode the adapters are not loaded: a provider the AI Client already has belongs to another plugin.
		$other       = ! $ours && $registry && $registry->hasProvider( $id );
		$providers[] = array(
			'id'     => $id,
			'name'   => (string) $conf['name'],
			'keyed'  => '' !== aimo_bridge_effective_key( $id )[0],
			'served' => $ours,
			'other'  => $other,
		);
	}
	return array(
		'mode'      => $mode,
		'dismissed' => (bool) get_option( AIMO_BRIDGE_OPT_BANNER_DISMISSED, false ),
		'managers'  => array_values( array_unique( $managers ) ),
		'providers' => $providers,
		'models'    => aimo_bridge_models(),
	);
}

/** Off: never. Observe: unless dismissed. Managed: always (a conflict there cannot be dismissed). */
function aimo_bridge_banner_visible( array $state ): bool {
	if ( 'off' === $state['mode'] ) {
		return false;
	}
	return 'managed' === $state['mode'] || ! $state['dismissed'];
}

function aimo_bridge_banner_enqueue( $hook_suffix ): void {
	if ( 'options-connectors.php' !== $hook_suffix || ! aimo_bridge_banner_on_page() ) {
		return;
	}
	$state = aimo_bridge_banner_state();
	if ( ! aimo_bridge_banner_visible( $state ) ) {
		return;
	}
	wp_enqueue_style( 'aimo-bridge-banner', plugins_url( 'assets/banner.css', AIMO_BRIDGE_FILE ), array(), AIMO_BRIDGE_VERSION );
	wp_enqueue_script(
		'aimo-bridge-banner',
		plugins_url( 'assets/banner.js', AIMO_BRIDGE_FILE ),
		array( 'wp-api-fetch', 'wp-i18n' ),
		AIMO_BRIDGE_VERSION,
		array( 'in_footer' => true )
	);
	wp_set_script_translations( 'aimo-bridge-banner', 'aimo-bridge' );
	wp_add_inline_script( 'aimo-bridge-banner', 'window.aimoBridgeBanner = ' . wp_json_encode( $state, JSON_HEX_TAG | JSON_UNESCAPED_SLASHES ) . ';', 'before' );
}

/** The banner's own container, before the React root (filled by banner.js; empty and hidden without it). */
function aimo_bridge_banner_host(): void {
	if ( ! aimo_bridge_banner_on_page() || ! wp_script_is( 'aimo-bridge-banner', 'enqueued' ) ) {
		return;
	}
	printf( '<section id="aimo-connectors-banner" class="aimo-banner-host" aria-label="%s" hidden></section>', esc_attr__( 'aimo', 'aimo-bridge' ) );
}
