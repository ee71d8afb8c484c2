<?php
/**
 * The model-list cache: ONE autoloaded option holds every served provider's model list (or its failure) for the
 * current key, and the connected state aimo reads in status. A warm page therefore costs no query of its own.
 *
 * - A list is kept AIMO_BRIDGE_MODELS_TTL (12 h); past that it is still served while WP-Cron refreshes it.
 * - A failure (timeout, refused, 5xx, bad key) is kept a few minutes (aimo_bridge_failure_ttl()) and answered from
 *   the cache, so a slow provider stalls no page: the provider shows "unreachable since …" on its card and in
 *   status, and WP-Cron retries it in the background, never inside a page request.
 * - Cold lists (new key, first visit) of several providers are fetched together, in one parallel batch
 *   (Requests::request_multiple): the Connectors page, status?check=1 and the hourly warm-up cost about the
 *   slowest provider, not the sum.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;

const AIMO_BRIDGE_OPT_CACHE       = 'aimo_bridge_cache';
const AIMO_BRIDGE_CRON_REFRESH    = 'aimo_bridge_refresh_models';
const AIMO_BRIDGE_FAILURE_DEFAULT = 5 * MINUTE_IN_SECONDS;

/**
 * Seconds a failed model list is kept before the background retry: constant AIMO_FAILURE_CACHE_TTL (wp-config.php),
 * then filter `aimo_failure_cache_ttl`; between 10 s and one hour.
 */
function aimo_bridge_failure_ttl(): int {
	$ttl = defined( 'AIMO_FAILURE_CACHE_TTL' ) && is_numeric( AIMO_FAILURE_CACHE_TTL ) ? (int) AIMO_FAILURE_CACHE_TTL : AIMO_BRIDGE_FAILURE_DEFAULT;
	/**
	 * Filters how long (seconds) a failed or timed-out model list is answered from the cache.
	 *
	 * @param int $ttl
	 */
	$ttl = (int) apply_filters( 'aimo_failure_cache_ttl', $ttl );
	return max( 10, min( HOUR_IN_SECONDS, $ttl ) );
}

/** The cache as loaded for this request: {models: id => entry, connected: id => state}. */
function aimo_bridge_cache(): array {
	if ( ! isset( $GLOBALS['aimo_bridge_cache'] ) ) {
		$stored                       = get_option( AIMO_BRIDGE_OPT_CACHE, array() );
		$stored                       = is_array( $stored ) ? $stored : array();
		$GLOBALS['aimo_bridge_cache'] = array(
			'models'    => is_array( $stored['models'] ?? null ) ? $stored['models'] : array(),
			'connected' => is_array( $stored['connected'] ?? null ) ? $stored['connected'] : array(),
		);
	}
	return $GLOBALS['aimo_bridge_cache'];
}

/** Change one entry (null removes it) and write the option, unless a batch is open (then at its end). */
function aimo_bridge_cache_put( string $part, string $id, ?array $value ): void {
	aimo_bridge_cache();
	if ( null === $value ) {
		unset( $GLOBALS['aimo_bridge_cache'][ $part ][ $id ] );
	} else {
		$GLOBALS['aimo_bridge_cache'][ $part ][ $id ] = $value;
	}
	$GLOBALS['aimo_bridge_cache_changed'][ $part ][ $id ] = true;
	if ( empty( $GLOBALS['aimo_bridge_cache_batch'] ) ) {
		aimo_bridge_cache_save();
	}
}

/**
 * Write the entries this request changed over what is in the database now (another request may have changed other
 * providers meanwhile): one read and one write, only when something changed.
 */
function aimo_bridge_cache_save(): void {
	$changed = $GLOBALS['aimo_bridge_cache_changed'] ?? array();
	if ( ! $changed ) {
		return;
	}
	$GLOBALS['aimo_bridge_cache_changed'] = array();
	global $wpdb;
	// The value in the database now, not this request's alloptions copy.
	$raw    = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", AIMO_BRIDGE_OPT_CACHE ) );
	$stored = null === $raw ? array() : maybe_unserialize( $raw );
	$stored = is_array( $stored ) ? $stored : array();
	$mine   = aimo_bridge_cache();
	foreach ( $changed as $part => $ids ) {
		$stored[ $part ] = is_array( $stored[ $part ] ?? null ) ? $stored[ $part ] : array();
		foreach ( array_keys( $ids ) as $id ) {
			if ( isset( $mine[ $part ][ $id ] ) ) {
				$stored[ $part ][ $id ] = $mine[ $part ][ $id ];
			} else {
				unset( $stored[ $part ][ $id ] );
			}
		}
	}
	$GLOBALS['aimo_bridge_cache'] = array(
		'models'    => $stored['models'] ?? array(),
		'connected' => $stored['connected'] ?? array(),
	);
	update_option( AIMO_BRIDGE_OPT_CACHE, $GLOBALS['aimo_bridge_cache'], true );
}

/** Run `$callback` with writes collected, then write the option once. */
function aimo_bridge_cache_batch( callable $callback ) {
	$outer                              = ! empty( $GLOBALS['aimo_bridge_cache_batch'] );
	$GLOBALS['aimo_bridge_cache_batch'] = true;
	try {
		return $callback();
	} finally {
		if ( ! $outer ) {
			$GLOBALS['aimo_bridge_cache_batch'] = false;
			aimo_bridge_cache_save();
		}
	}
}

/** Forget everything (uninstall, tests, a mode change). */
function aimo_bridge_cache_clear(): void {
	unset( $GLOBALS['aimo_bridge_cache'], $GLOBALS['aimo_bridge_cache_changed'] );
	delete_option( AIMO_BRIDGE_OPT_CACHE );
}

/** The cache key of a provider's list: provider, endpoint and key (its sha256; never the key itself). */
function aimo_bridge_cache_key( string $id, string $key ): string {
	return md5( $id . '|' . aimo_bridge_base_url( $id, 'ollama' === $id ? $key : null ) . '|' . hash( 'sha256', $key ) );
}

/** The cached entry of a provider for this key, or null (cold). */
function aimo_bridge_cache_entry( string $id, string $ck ): ?array {
	$entry = aimo_bridge_cache()['models'][ $id ] ?? null;
	return is_array( $entry ) && ( $entry['ck'] ?? '' ) === $ck ? $entry : null;
}

function aimo_bridge_cache_store_rows( string $id, string $ck, array $rows ): void {
	aimo_bridge_cache_put(
		'models',
		$id,
		array(
			'ck'    => $ck,
			'ok'    => true,
			'rows'  => $rows,
			'at'    => time(),
			'until' => time() + AIMO_BRIDGE_MODELS_TTL,
		)
	);
}

/**
 * Keep a failure for a few minutes. `unreachable` (network error, timeout, 5xx, 429) is what status and the card
 * report as "unreachable since …"; since when is kept across retries that fail the same way.
 */
function aimo_bridge_cache_store_failure( string $id, string $ck, Throwable $e, string $reason ): void {
	$previous    = aimo_bridge_cache_entry( $id, $ck );
	$unreachable = aimo_bridge_is_unreachable( $e );
	$since       = time();
	if ( $previous && empty( $previous['ok'] ) && ! empty( $previous['unreachable'] ) === $unreachable && isset( $previous['since'] ) ) {
		$since = (int) $previous['since'];
	}
	aimo_bridge_cache_put(
		'models',
		$id,
		array(
			'ck'          => $ck,
			'ok'          => false,
			'unreachable' => $unreachable,
			'error'       => $reason,
			'since'       => $since,
			'at'          => time(),
			'until'       => time() + aimo_bridge_failure_ttl(),
		)
	);
}

/** Whether a failure means the provider could not be reached (as opposed to refusing the key or the request). */
function aimo_bridge_is_unreachable( Throwable $e ): bool {
	if ( $e instanceof WordPress\AiClient\Providers\Http\Exception\NetworkException ) {
		return true;
	}
	if ( $e instanceof WordPress\AiClient\Providers\Http\Exception\ServerException ) {
		return true;
	}
	return $e instanceof WordPress\AiClient\Providers\Http\Exception\ClientException && in_array( (int) $e->getCode(), array( 408, 429 ), true );
}

/** The message of a cached failure, as the AI Client and aimo see it. */
function aimo_bridge_cached_failure_message( array $entry ): string {
	$when = gmdate( 'Y-m-d H:i:s', (int) ( $entry['since'] ?? $entry['at'] ?? time() ) ) . ' UTC';
	$what = ! empty( $entry['unreachable'] ) ? 'unreachable since ' . $when : 'failing since ' . $when;
	return $what . ': ' . (string) ( $entry['error'] ?? '' ) . ' (retried in the background)';
}

/** Ask WP-Cron to refresh what is due, soon and once (a single event; nothing is fetched in this request). */
function aimo_bridge_schedule_refresh(): void {
	if ( ! empty( $GLOBALS['aimo_bridge_refresh_scheduled'] ) ) {
		return;
	}
	$GLOBALS['aimo_bridge_refresh_scheduled'] = true;
	if ( ! wp_next_scheduled( AIMO_BRIDGE_CRON_REFRESH ) ) {
		wp_schedule_single_event( time(), AIMO_BRIDGE_CRON_REFRESH );
	}
}

/** WP-Cron: refresh every served provider whose list or failure is past its time, in one parallel batch. */
function aimo_bridge_refresh_due(): array {
	return aimo_bridge_warm_parallel( aimo_bridge_served_ids(), 'due' );
}

/**
 * Fetch the model lists (and key checks) of several providers at once and cache them.
 *
 * @param string[] $ids  providers to consider.
 * @param string   $mode 'cold' (only those with nothing cached for their key), 'due' (also those past their
 *                       time) or 'fresh' (all of them).
 * @return array id => {connected, reason} for the providers fetched.
 */
function aimo_bridge_warm_parallel( array $ids, string $mode ): array {
	if ( ! $ids || ! class_exists( 'Aimo_Bridge_Model_Directory', false ) || ! aimo_bridge_ai_client_available() ) {
		return array();
	}
	$registry = AiClient::defaultRegistry();
	$jobs     = array();
	$flat     = array();
	foreach ( $ids as $id ) {
		if ( ! $registry->hasProvider( $id ) || ! is_subclass_of( $registry->getProviderClassName( $id ), 'Aimo_Bridge_Provider' ) ) {
			continue;
		}
		$class     = $registry->getProviderClassName( $id );
		$directory = $class::modelMetadataDirectory();
		if ( ! $directory instanceof Aimo_Bridge_Model_Directory ) {
			continue;
		}
		$plan = $directory->warm_plan();
		if ( null === $plan ) {
			continue; // no key
		}
		$entry = aimo_bridge_cache_entry( $id, $plan['ck'] );
		if ( $entry && ( 'cold' === $mode || ( 'due' === $mode && (int) $entry['until'] > time() ) ) ) {
			continue;
		}
		$jobs[ $id ] = array( $directory, $plan );
		foreach ( $plan['requests'] as $name => $request ) {
			$flat[ $id . '|' . $name ] = $request;
		}
	}
	if ( ! $jobs ) {
		return array();
	}
	$responses = aimo_bridge_send_parallel( $flat );
	return aimo_bridge_cache_batch(
		static function () use ( $jobs, $responses ) {
			$results = array();
			foreach ( $jobs as $id => [ $directory, $plan ] ) {
				$got = array();
				foreach ( array_keys( $plan['requests'] ) as $name ) {
					$got[ $name ] = $responses[ $id . '|' . $name ];
				}
				$result         = $directory->take_warm_responses( $plan, $got );
				$results[ $id ] = array(
					'connected' => $result['connected'],
					'reason'    => $result['reason'],
				);
				if ( $directory instanceof WordPress\AiClient\Common\Contracts\CachesDataInterface ) {
					$directory->invalidateCaches(); // the AI Client's own copy in this request: read ours again
				}
			}
			return $results;
		}
	);
}

/**
 * Send AI Client requests together (WordPress's Requests library, curl multi when available) with WordPress's
 * rules for outgoing requests: the same safe-URL check as wp_safe_remote_request (so only what the site allows is
 * reached), the same timeout, user agent and certificates. Behind a proxy they go one by one through the WordPress
 * HTTP API instead.
 *
 * @param array<string, WordPress\AiClient\Providers\Http\DTO\Request> $requests
 * @return array<string, WordPress\AiClient\Providers\Http\DTO\Response|Throwable>
 */
function aimo_bridge_send_parallel( array $requests ): array {
	$out   = array();
	$batch = array();
	$proxy = new WP_HTTP_Proxy();
	foreach ( $requests as $name => $request ) {
		$url     = $request->getUri();
		$headers = array();
		foreach ( $request->getHeaders() as $header => $values ) {
			$headers[ $header ] = implode( ', ', (array) $values );
		}
		$args   = array(
			'method'  => $request->getMethod()->value,
			'headers' => $headers,
			'body'    => $request->getBody(),
		);
		$pid    = explode( '|', (string) $name, 2 )[0];
		$values = array();
		foreach ( $headers as $value ) {
			$values[] = (string) $value;
		}
		$refusal = function_exists( 'aimo_bridge_override_refusal' ) ? aimo_bridge_override_refusal( $pid, $values ) : null; // the same rule as Aimo_Bridge_Transporter
		if ( null !== $refusal ) {
			$out[ $name ] = new RuntimeException( esc_html( $refusal ) );
			continue;
		}
		if ( ! aimo_bridge_url_allowed( $pid, $url ) ) {
			$out[ $name ] = new WordPress\AiClient\Providers\Http\Exception\NetworkException( sprintf( 'Network error occurred while sending %s request to %s: A valid URL was not provided.', $args['method'], $url ) );
			continue;
		}
		if ( $proxy->is_enabled() && $proxy->send_through_proxy( $url ) ) {
			$out[ $name ] = aimo_bridge_to_response( wp_safe_remote_request( $url, $args ), $args['method'], $url );
			continue;
		}
		$timeout        = (float) apply_filters( 'http_request_timeout', 5, $url ); // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- core's HTTP filter, applied as WP_Http does
		$local          = str_starts_with( $url, 'https://' ) && in_array( wp_parse_url( $url, PHP_URL_HOST ), array( 'localhost', '127.0.0.1' ), true );
		$verify         = $local ? apply_filters( 'https_local_ssl_verify', true, $url ) : true; // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- core's HTTP filter, applied as WP_Http does
		$verify         = apply_filters( 'https_ssl_verify', $verify, $url ); // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- core's HTTP filter, applied as WP_Http does
		$batch[ $name ] = array(
			'url'     => $url,
			'headers' => $headers,
			'data'    => $args['body'],
			'type'    => $args['method'],
			'options' => array(
				'timeout'          => $timeout,
				'connect_timeout'  => $timeout,
				'useragent'        => apply_filters( 'http_headers_useragent', 'WordPress/' . get_bloginfo( 'version' ) . '; ' . get_bloginfo( 'url' ), $url ), // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- core's HTTP filter, applied as WP_Http does
				'verify'           => $verify ? ABSPATH . WPINC . '/certificates/ca-bundle.crt' : false,
				'follow_redirects' => false, // a redirect is not followed blindly to an address nobody checked
				'blocking'         => true,
			),
		);
		$out[ $name ]   = null;
	}
	if ( $batch ) {
		foreach ( WpOrg\Requests\Requests::request_multiple( $batch, aimo_bridge_parallel_options() ) as $name => $response ) {
			if ( $response instanceof WpOrg\Requests\Response ) {
				$headers = array();
				foreach ( $response->headers->getAll() as $header => $values ) {
					$headers[ $header ] = (array) $values;
				}
				$out[ $name ] = new WordPress\AiClient\Providers\Http\DTO\Response( $response->status_code >= 100 ? (int) $response->status_code : 500, $headers, (string) $response->body );
			} else {
				$message      = $response instanceof Throwable ? $response->getMessage() : 'no answer';
				$out[ $name ] = new WordPress\AiClient\Providers\Http\Exception\NetworkException( sprintf( 'Network error occurred while sending %s request to %s: %s', $batch[ $name ]['type'], $batch[ $name ]['url'], $message ) );
			}
		}
	}
	return $out;
}

/** Requests' options for a parallel batch: with curl, a transport that waits for the answers instead of spinning on a CPU core (includes/adapters.php). */
function aimo_bridge_parallel_options(): array {
	if ( class_exists( 'Aimo_Bridge_Multi_Transport', false ) && Aimo_Bridge_Multi_Transport::test( array( WpOrg\Requests\Capability::SSL => true ) ) ) {
		return array( 'transport' => 'Aimo_Bridge_Multi_Transport' );
	}
	return array();
}

/**
 * WordPress's safe-URL rule (wp_http_validate_url), with the configured Ollama server allowed for Ollama's own
 * requests only, exactly as Aimo_Bridge_Transporter allows it.
 */
function aimo_bridge_url_allowed( string $provider_id, string $url ): bool {
	if ( ! function_exists( 'aimo_bridge_with_ollama_allowed' ) ) {
		return (bool) wp_http_validate_url( $url );
	}
	return (bool) aimo_bridge_with_ollama_allowed( $provider_id, $url, static fn() => wp_http_validate_url( $url ) );
}

/** A WordPress HTTP API answer as an AI Client response, or the network exception it stands for. */
function aimo_bridge_to_response( $response, string $method, string $url ) {
	if ( is_wp_error( $response ) ) {
		return new WordPress\AiClient\Providers\Http\Exception\NetworkException( sprintf( 'Network error occurred while sending %s request to %s: %s', $method, $url, $response->get_error_message() ) );
	}
	$headers = array();
	foreach ( wp_remote_retrieve_headers( $response ) as $header => $value ) {
		$headers[ $header ] = (array) $value;
	}
	$code = (int) wp_remote_retrieve_response_code( $response );
	return new WordPress\AiClient\Providers\Http\DTO\Response( $code >= 100 ? $code : 500, $headers, wp_remote_retrieve_body( $response ) );
}

/**
 * Settings → Connectors, before core asks each provider whether it is configured (priority 10): fetch every cold
 * list in one parallel batch. Lists past their time are served as they are and refreshed by WP-Cron.
 */
function aimo_bridge_prewarm_connectors_page( $data ) {
	if ( 'managed' === aimo_bridge_mode() ) {
		aimo_bridge_warm_parallel( aimo_bridge_served_ids(), 'cold' );
	}
	return $data;
}

function aimo_bridge_cache_hooks(): void {
	add_filter( 'script_module_data_options-connectors-wp-admin', 'aimo_bridge_prewarm_connectors_page', 5 );
	add_action( AIMO_BRIDGE_CRON_REFRESH, 'aimo_bridge_refresh_due' );
}

/** status?check=…: false, true (through the cache) or 'fresh'. */
function aimo_bridge_check_arg( $value ) {
	$value = strtolower( (string) $value );
	if ( 'fresh' === $value ) {
		return 'fresh';
	}
	return in_array( $value, array( '1', 'true' ), true );
}

/** Whether the cache holds an answer (list or failure) for the provider's current key. */
function aimo_bridge_has_cached_list( string $id ): bool {
	$key = aimo_bridge_effective_key( $id )[0];
	return '' !== $key && null !== aimo_bridge_cache_entry( $id, aimo_bridge_cache_key( $id, $key ) );
}

/**
 * Since when (ISO time) and why a provider has been unreachable with its current key; null when it is not.
 *
 * @return array{since: string, reason: string}|null
 */
function aimo_bridge_unreachable( string $id ): ?array {
	$entry = aimo_bridge_cache()['models'][ $id ] ?? null;
	if ( ! is_array( $entry ) || ! empty( $entry['ok'] ) || empty( $entry['unreachable'] ) ) {
		return null;
	}
	$key = aimo_bridge_effective_key( $id )[0];
	if ( '' === $key || ( $entry['ck'] ?? '' ) !== aimo_bridge_cache_key( $id, $key ) ) {
		return null; // a failure of another key (or endpoint)
	}
	return array(
		'since'  => gmdate( 'Y-m-d\TH:i:s\Z', (int) ( $entry['since'] ?? $entry['at'] ) ),
		'reason' => (string) ( $entry['error'] ?? '' ),
	);
}

/**
 * Load, in ONE query, every option this request may look up that is not autoloaded: the connector keys (core reads
 * each one on every request, and a provider without a key has no option: one query each otherwise), the bridge's own
 * optional settings, WordPress AI's approvals and the mode options of the other managers the bridge knows. Absent
 * ones are remembered as absent, so nothing asks the database twice. Nothing is queried when all are loaded already.
 */
function aimo_bridge_prime_options(): void {
	if ( ! function_exists( 'wp_prime_option_caches' ) ) {
		return;
	}
	$names = array( AIMO_BRIDGE_OPT_BASE_URLS, AIMO_BRIDGE_OPT_MODELS, AIMO_BRIDGE_OPT_TAKEN_OVER, 'aimo_connectors_banner_dismissed', 'wpai_connector_approvals' );
	foreach ( array_keys( aimo_bridge_providers() ) as $id ) {
		$names[] = aimo_bridge_setting_name( $id );
	}
	foreach ( aimo_bridge_known_managers() as $known ) {
		if ( ! empty( $known['option'] ) && is_string( $known['option'] ) ) {
			$names[] = $known['option'];
		}
	}
	wp_prime_option_caches( $names );
}
