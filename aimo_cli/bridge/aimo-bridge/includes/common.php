<?php
/**
 * Shared pieces: option names, the provider table, modes, base URLs, fingerprints, sampling rules, and boot.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/providers.php';

const AIMO_BRIDGE_OPT_MODE            = 'aimo_connectors_mode';
const AIMO_BRIDGE_OPT_MODELS          = 'aimo_connectors_models';
const AIMO_BRIDGE_OPT_BASE_URLS       = 'aimo_provider_base_urls';
const AIMO_BRIDGE_OPT_LOG             = 'aimo_connectors_change_log';
const AIMO_BRIDGE_OPT_TAKEN_OVER      = 'aimo_connectors_taken_over';
const AIMO_BRIDGE_OPT_REMOVE_KEYS     = 'aimo_uninstall_remove_keys';
const AIMO_BRIDGE_OPT_CREATED_KEYS    = 'aimo_connectors_created_keys';
const AIMO_BRIDGE_OPT_ADDED_APPROVALS = 'aimo_connectors_added_approvals';
const AIMO_BRIDGE_CRON_WARM           = 'aimo_bridge_warm_models';
const AIMO_BRIDGE_MODES               = array( 'observe', 'managed', 'off' );
const AIMO_BRIDGE_LOG_MAX             = 50;
const AIMO_BRIDGE_MODELS_TTL          = 12 * HOUR_IN_SECONDS;

/**
 * The bridge's plugin basename (aimo-bridge/aimo-bridge.php when installed normally).
 */
function aimo_bridge_basename(): string {
	return plugin_basename( AIMO_BRIDGE_FILE );
}

/**
 * The providers the bridge can serve: the table generated from aimo's provider manifest (includes/providers.php).
 * `aimo_provider_adapters` may change their configuration (name, base_url, kind, credentials_url, key_check, …) but
 * not add ids: each id has its own adapter class (includes/provider-classes.php, generated too).
 *
 * kind: openai (OpenAI-compatible chat/completions), perplexity (POST /v1/agent), ollama (server URL is the credential).
 * key_check: '' (listing models proves the key), a path under the base URL, or a URL (e.g. Hugging Face's whoami).
 */
function aimo_bridge_providers(): array {
	$defaults = aimo_bridge_provider_defaults();
	/**
	 * Filters the adapter configuration of the providers the bridge serves.
	 *
	 * @param array $providers id => config.
	 */
	$filtered  = apply_filters( 'aimo_provider_adapters', $defaults );
	$providers = array();
	foreach ( $defaults as $id => $config ) {
		$conf              = is_array( $filtered[ $id ] ?? null ) ? array_merge( $config, $filtered[ $id ] ) : $config;
		$conf['kind']      = $conf['kind'] ?? 'openai';
		$conf['type']      = $conf['type'] ?? 'cloud';
		$conf['images']    = ! empty( $conf['images'] );
		$conf['key_check'] = $conf['key_check'] ?? '';
		$providers[ $id ]  = $conf;
	}
	return $providers;
}

function aimo_bridge_provider( string $id ): ?array {
	return aimo_bridge_providers()[ $id ] ?? null;
}

function aimo_bridge_setting_name( string $id ): string {
	return 'connectors_ai_' . str_replace( '-', '_', $id ) . '_api_key';
}

/** The env var / constant name core reads for a provider's key (OPENAI_API_KEY, …). */
function aimo_bridge_key_constant( string $id ): string {
	return strtoupper( (string) preg_replace( '/([a-z])([A-Z])/', '$1_$2', str_replace( '-', '_', $id ) ) ) . '_API_KEY';
}

function aimo_bridge_mode(): string {
	$mode = get_option( AIMO_BRIDGE_OPT_MODE, 'observe' );
	return in_array( $mode, AIMO_BRIDGE_MODES, true ) ? $mode : 'observe';
}

/** Fingerprint of a secret: the first 12 hex chars of its sha256, exactly as aimo computes it ('' for none). */
function aimo_bridge_fingerprint( $value ): string {
	return is_string( $value ) && '' !== $value ? substr( hash( 'sha256', $value ), 0, 12 ) : '';
}

function aimo_bridge_mask_tail( $value ): string {
	return is_string( $value ) && '' !== $value ? substr( $value, -4 ) : '';
}

/** The key WordPress would use for a provider: env var, then constant, then the option (core's order). */
function aimo_bridge_effective_key( string $id ): array {
	$name = aimo_bridge_key_constant( $id );
	$env  = getenv( $name );
	if ( false !== $env && '' !== $env ) {
		return array( $env, 'env' );
	}
	if ( defined( $name ) && is_string( constant( $name ) ) && '' !== constant( $name ) ) {
		return array( constant( $name ), 'constant' );
	}
	$stored = get_option( aimo_bridge_setting_name( $id ), '' );
	if ( is_string( $stored ) && '' !== $stored ) {
		return array( $stored, 'database' );
	}
	return array( '', 'none' );
}

/** Base URL overrides stored by aimo (option), id => url. */
function aimo_bridge_base_url_overrides(): array {
	$stored = get_option( AIMO_BRIDGE_OPT_BASE_URLS, array() );
	return is_array( $stored ) ? $stored : array();
}

/**
 * Where a provider's base URL comes from: 'constant' (AIMO_{ID}_BASE_URL in wp-config.php, the server owner's),
 * 'option' (an override stored through POST aimo/v1/base-urls), or 'default'.
 */
function aimo_bridge_base_url_source( string $id ): string {
	$constant = 'AIMO_' . strtoupper( str_replace( '-', '_', $id ) ) . '_BASE_URL';
	if ( defined( $constant ) && is_string( constant( $constant ) ) && '' !== constant( $constant ) ) {
		return 'constant';
	}
	$overrides = aimo_bridge_base_url_overrides();
	return ! empty( $overrides[ $id ] ) && is_string( $overrides[ $id ] ) ? 'option' : 'default';
}

/**
 * The base URL an adapter talks to: constant AIMO_{ID}_BASE_URL, then the stored override, then the default.
 * For Ollama the default is the server URL that is its credential: `$credential` when given (the one being
 * validated or used), else the stored one.
 */
function aimo_bridge_base_url( string $id, ?string $credential = null ): string {
	$source = aimo_bridge_base_url_source( $id );
	if ( 'constant' === $source ) {
		return untrailingslashit( constant( 'AIMO_' . strtoupper( str_replace( '-', '_', $id ) ) . '_BASE_URL' ) );
	}
	if ( 'option' === $source ) {
		return untrailingslashit( aimo_bridge_base_url_overrides()[ $id ] );
	}
	if ( 'ollama' === $id ) {
		$url = $credential ?? aimo_bridge_effective_key( 'ollama' )[0];
		return untrailingslashit( trim( (string) strtok( (string) $url, "\n" ) ) );
	}
	$provider = aimo_bridge_provider( $id );
	return untrailingslashit( (string) ( $provider['base_url'] ?? '' ) );
}

/** Whether a host name is this machine: 127.0.0.0/8, ::1 or localhost. */
function aimo_bridge_is_loopback_host( string $host ): bool {
	$host = strtolower( trim( $host, '[]' ) );
	if ( 'localhost' === $host || '::1' === $host ) {
		return true;
	}
	return false !== filter_var( $host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4 ) && str_starts_with( $host, '127.' );
}

/**
 * Why a request to a provider must not go out, or null when it may: a key that comes from an environment variable
 * or a wp-config constant (the server owner's) is never sent to a base URL overridden through the REST route
 * (an administrator's), unless wp-config.php allows it with AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS.
 *
 * @param string   $id      provider id.
 * @param string[] $values  every header value of the request about to be sent.
 */
function aimo_bridge_override_refusal( string $id, array $values ): ?string {
	if ( 'option' !== aimo_bridge_base_url_source( $id ) ) {
		return null;
	}
	if ( defined( 'AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS' ) && AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS ) {
		return null;
	}
	$name = aimo_bridge_key_constant( $id );
	$env  = getenv( $name );
	foreach ( array(
		'environment variable' => false !== $env ? (string) $env : '',
		'constant'             => defined( $name ) && is_string( constant( $name ) ) ? constant( $name ) : '',
	) as $kind => $secret ) {
		if ( strlen( $secret ) < 4 ) {
			continue;
		}
		foreach ( $values as $value ) {
			if ( str_contains( (string) $value, $secret ) ) {
				return sprintf(
					'refusing to send the key from the %1$s %2$s to the overridden base URL (host %3$s): a base URL set through aimo never receives a server-owned key; remove the override (aimo bridge base-url %4$s --clear) or allow it in wp-config.php by defining AIMO_ALLOW_BASE_URL_WITH_CONSTANT_KEYS as true',
					$kind,
					$name,
					(string) wp_parse_url( aimo_bridge_base_url( $id ), PHP_URL_HOST ),
					$id
				);
			}
		}
	}
	return null;
}

/**
 * The full URL of an API path for a provider. Perplexity and Ollama bases are server roots (their API lives
 * under /v1); a base that already ends in /v1 is used as it is.
 */
function aimo_bridge_url( string $id, string $path, ?string $credential = null ): string {
	$base = aimo_bridge_base_url( $id, $credential );
	$kind = aimo_bridge_provider( $id )['kind'] ?? 'openai';
	if ( in_array( $kind, array( 'perplexity', 'ollama' ), true ) && ! preg_match( '#/v1$#', $base ) && ! str_starts_with( $path, '/api/' ) ) {
		$base .= '/v1';
	}
	if ( str_starts_with( $path, '/api/' ) ) { // Ollama's native API lives at the server root.
		$base = (string) preg_replace( '#/v1$#', '', $base );
	}
	return $base . '/' . ltrim( $path, '/' );
}

/** Saved model preferences: text and image, each "provider:model" or '' (Automatic). */
function aimo_bridge_models(): array {
	$stored = get_option( AIMO_BRIDGE_OPT_MODELS, array() );
	$stored = is_array( $stored ) ? $stored : array();
	return array(
		'text'  => is_string( $stored['text'] ?? null ) ? $stored['text'] : '',
		'image' => is_string( $stored['image'] ?? null ) ? $stored['image'] : '',
	);
}

/**
 * Model id prefixes that reject temperature/top_p/top_k (docs/design.md §4). `*` stands for one word of letters
 * (so claude-*-5 matches claude-sonnet-5 but not claude-opus-4-5).
 */
function aimo_bridge_no_sampling_prefixes(): array {
	$defaults = array( 'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-4-9', 'claude-*-5', 'claude-5', 'claude-fable', 'claude-mythos', 'fable', 'mythos' );
	/**
	 * Filters the model id prefixes for which sampling parameters are stripped from requests.
	 *
	 * @param string[] $prefixes
	 */
	$prefixes = apply_filters( 'aimo_no_sampling_model_prefixes', $defaults );
	return array_values( array_filter( (array) $prefixes, 'is_string' ) );
}

function aimo_bridge_is_no_sampling_model( string $model ): bool {
	$model = strtolower( $model );
	$short = str_contains( $model, '/' ) ? substr( $model, strrpos( $model, '/' ) + 1 ) : $model; // openrouter: anthropic/claude-…
	foreach ( aimo_bridge_no_sampling_prefixes() as $prefix ) {
		$regex = '#^' . str_replace( '\*', '[a-z]+', preg_quote( strtolower( $prefix ), '#' ) ) . '#';
		if ( preg_match( $regex, $short ) || preg_match( $regex, $model ) ) {
			return true;
		}
	}
	return false;
}

/** Remove sampling parameters a model rejects; returns the body unchanged when nothing applies. */
function aimo_bridge_strip_sampling( array $body ): array {
	if ( isset( $body['model'] ) && is_string( $body['model'] ) && aimo_bridge_is_no_sampling_model( $body['model'] ) ) {
		unset( $body['temperature'], $body['top_p'], $body['top_k'] );
	}
	return $body;
}

/** The pieces of "provider:model" ('' when malformed). */
function aimo_bridge_split_model_ref( string $ref ): array {
	if ( ! preg_match( '/^([a-z0-9_-]+):(\S.*)$/', $ref, $m ) ) {
		return array( '', '' );
	}
	return array( $m[1], $m[2] );
}

/**
 * Whether a write is aimo's: made by the bridge's own credentials route (POST aimo/v1/credentials, which only an
 * administrator's login reaches). Never from the User-Agent, which any client can claim.
 */
function aimo_bridge_request_is_aimo(): bool {
	return ! empty( $GLOBALS['aimo_bridge_writing'] );
}

/** Connected state from the last check, id => {connected, reason, checked_at} (kept in the bridge's cache option). */
function aimo_bridge_connected_cache(): array {
	return aimo_bridge_cache()['connected'];
}

function aimo_bridge_remember_connected( string $id, ?bool $connected, string $reason ): void {
	$previous = aimo_bridge_connected_cache()[ $id ] ?? null;
	if ( is_array( $previous ) && $previous['connected'] === $connected && $previous['reason'] === $reason && 'no key is set' === $reason ) {
		return; // nothing new to write
	}
	aimo_bridge_cache_put(
		'connected',
		$id,
		array(
			'connected'  => $connected,
			'reason'     => $reason,
			'checked_at' => gmdate( 'Y-m-d\TH:i:s\Z' ),
		)
	);
}

/**
 * Wire everything up. Off: only the REST routes (so aimo can switch the bridge back on).
 */
function aimo_bridge_boot(): void {
	add_action( 'rest_api_init', 'aimo_bridge_register_routes' );
	if ( 'off' === aimo_bridge_mode() ) {
		return;
	}
	aimo_bridge_prime_options(); // includes/cache.php: one query instead of one per absent option
	aimo_bridge_changelog_hooks();
	if ( 'managed' === aimo_bridge_mode() ) {
		aimo_bridge_managed_hooks();
		aimo_bridge_cache_hooks();
	}
}
