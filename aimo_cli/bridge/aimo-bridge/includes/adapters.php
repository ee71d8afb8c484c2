<?php
/**
 * AI Client adapters for the providers of aimo's provider manifest. Loaded only in managed mode and only when the AI Client exists.
 *
 * One provider class per id (the AI Client caches metadata, availability and model directories per class),
 * one model directory class (its cache key includes the provider id), and shared model classes.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

use WordPress\AiClient\AiClient;
use WordPress\AiClient\Common\Exception\RuntimeException;
use WordPress\AiClient\Messages\DTO\Message;
use WordPress\AiClient\Messages\DTO\MessagePart;
use WordPress\AiClient\Messages\Enums\MessageRoleEnum;
use WordPress\AiClient\Messages\Enums\ModalityEnum;
use WordPress\AiClient\Providers\ApiBasedImplementation\AbstractApiBasedModel;
use WordPress\AiClient\Providers\ApiBasedImplementation\AbstractApiProvider;
use WordPress\AiClient\Providers\ApiBasedImplementation\ListModelsApiBasedProviderAvailability;
use WordPress\AiClient\Providers\Contracts\ModelMetadataDirectoryInterface;
use WordPress\AiClient\Providers\Contracts\ProviderAvailabilityInterface;
use WordPress\AiClient\Providers\DTO\ProviderMetadata;
use WordPress\AiClient\Providers\Enums\ProviderTypeEnum;
use WordPress\AiClient\Providers\Http\DTO\ApiKeyRequestAuthentication;
use WordPress\AiClient\Providers\Http\Contracts\HttpTransporterInterface;
use WordPress\AiClient\Providers\Http\DTO\Request;
use WordPress\AiClient\Providers\Http\DTO\RequestOptions;
use WordPress\AiClient\Providers\Http\DTO\Response;
use WordPress\AiClient\Providers\Http\Enums\HttpMethodEnum;
use WordPress\AiClient\Providers\Http\Enums\RequestAuthenticationMethod;
use WordPress\AiClient\Providers\Http\Exception\NetworkException;
use WordPress\AiClient\Providers\Http\Exception\ResponseException;
use WordPress\AiClient\Providers\Http\Util\ResponseUtil;
use WordPress\AiClient\Providers\Models\Contracts\ModelInterface;
use WordPress\AiClient\Providers\Models\DTO\ModelMetadata;
use WordPress\AiClient\Providers\Models\DTO\SupportedOption;
use WordPress\AiClient\Providers\Models\Enums\CapabilityEnum;
use WordPress\AiClient\Providers\Models\Enums\OptionEnum;
use WordPress\AiClient\Providers\Models\TextGeneration\Contracts\TextGenerationModelInterface;
use WordPress\AiClient\Providers\OpenAiCompatibleImplementation\AbstractOpenAiCompatibleImageGenerationModel;
use WordPress\AiClient\Providers\OpenAiCompatibleImplementation\AbstractOpenAiCompatibleModelMetadataDirectory;
use WordPress\AiClient\Providers\OpenAiCompatibleImplementation\AbstractOpenAiCompatibleTextGenerationModel;
use WordPress\AiClient\Results\DTO\Candidate;
use WordPress\AiClient\Results\DTO\GenerativeAiResult;
use WordPress\AiClient\Results\DTO\TokenUsage;
use WordPress\AiClient\Results\Enums\FinishReasonEnum;

/**
 * Every request an adapter sends goes through here (one place): a server-owned key (environment variable or
 * wp-config constant) never goes to a base URL overridden through aimo unless wp-config.php allows it, and the
 * Ollama server (usually on loopback, which WordPress's SSRF guard refuses) is let through for this request only,
 * exactly its host and port: no other caller (the oEmbed proxy, another plugin) ever gets the allowance.
 */
final class Aimo_Bridge_Transporter implements HttpTransporterInterface {
	private HttpTransporterInterface $inner;
	private string $provider_id;

	public function __construct( HttpTransporterInterface $inner, string $provider_id ) {
		$this->inner       = $inner;
		$this->provider_id = $provider_id;
	}

	public function send( Request $request, ?RequestOptions $options = null ): Response {
		$values = array();
		foreach ( $request->getHeaders() as $header_values ) {
			foreach ( (array) $header_values as $value ) {
				$values[] = (string) $value;
			}
		}
		$refusal = aimo_bridge_override_refusal( $this->provider_id, $values );
		if ( null !== $refusal ) {
			throw new RuntimeException( esc_html( $refusal ) );
		}
		return aimo_bridge_with_ollama_allowed( $this->provider_id, (string) $request->getUri(), fn() => $this->inner->send( $request, $options ) );
	}
}

/**
 * Requests' curl transport for a parallel batch, waiting for the answers instead of spinning. Requests' own
 * request_multiple() (WordPress 7.1) calls curl_multi_exec() in a loop with no curl_multi_select() between the
 * calls: the PHP worker holds a whole CPU core while it waits for the slowest provider, a core the providers,
 * the database and the site's other requests (and aimo, on the same machine) then lack. This is the same loop
 * with a wait for activity (at most 50 ms, and only while nothing has finished); every request is still set up
 * and its answer read by Requests' Curl transport, so options, hooks and answers are exactly Requests' own.
 * Single requests go to that transport unchanged.
 */
final class Aimo_Bridge_Multi_Transport implements WpOrg\Requests\Transport {
	/**
	 * @param string       $url     URL.
	 * @param array        $headers Headers.
	 * @param string|array $data    Body or query.
	 * @param array        $options Requests options.
	 * @return string The raw answer.
	 */
	public function request( $url, $headers = array(), $data = array(), $options = array() ) {
		return ( new WpOrg\Requests\Transport\Curl() )->request( $url, $headers, $data, $options );
	}

	/**
	 * @param array $requests Requests (url, headers, data, options) by key.
	 * @param array $options  Global options.
	 * @return array Answers (strings or Requests exceptions) by key.
	 */
	public function request_multiple( $requests, $options ) { // phpcs:disable WordPress.WP.AlternativeFunctions -- Requests' own curl loop (the WordPress HTTP API sends one request at a time)
		if ( empty( $requests ) ) {
			return array();
		}
		$multi   = curl_multi_init();
		$subs    = array();
		$handles = array();
		$last    = null;
		foreach ( $requests as $id => $request ) {
			$subs[ $id ]    = new WpOrg\Requests\Transport\Curl();
			$handles[ $id ] = $subs[ $id ]->get_subrequest_handle( $request['url'], $request['headers'], $request['data'], $request['options'] );
			$request['options']['hooks']->dispatch( 'curl.before_multi_add', array( &$handles[ $id ] ) );
			curl_multi_add_handle( $multi, $handles[ $id ] );
			$last = $request;
		}
		$last['options']['hooks']->dispatch( 'curl.before_multi_exec', array( &$multi ) );
		$total     = count( $subs );
		$completed = 0;
		$responses = array();
		do {
			$active = 0;
			do {
				$status = curl_multi_exec( $multi, $active );
			} while ( CURLM_CALL_MULTI_PERFORM === $status );
			$finished = 0;
			$done     = curl_multi_info_read( $multi );
			while ( $done ) {
				$key     = array_search( $done['handle'], $handles, true );
				$request = $requests[ $key ];
				if ( CURLE_OK !== $done['result'] ) {
					$responses[ $key ] = new WpOrg\Requests\Exception\Transport\Curl( curl_error( $done['handle'] ), WpOrg\Requests\Exception\Transport\Curl::EASY, $done['handle'], $done['result'] );
					$request['options']['hooks']->dispatch( 'transport.internal.parse_error', array( &$responses[ $key ], $request ) );
				} else {
					$responses[ $key ] = $subs[ $key ]->process_response( $subs[ $key ]->response_data, $request['options'] );
					$request['options']['hooks']->dispatch( 'transport.internal.parse_response', array( &$responses[ $key ], $request ) );
				}
				curl_multi_remove_handle( $multi, $done['handle'] );
				if ( ! is_string( $responses[ $key ] ) ) {
					$request['options']['hooks']->dispatch( 'multiple.request.complete', array( &$responses[ $key ], $key ) );
				}
				++$completed;
				++$finished;
				$done = curl_multi_info_read( $multi );
			}
			if ( $active && ! $finished ) {
				curl_multi_select( $multi, 0.05 ); // wait for an answer (Requests' own loop spins here)
			}
		} while ( $active || $completed < $total );
		$last['options']['hooks']->dispatch( 'curl.after_multi_exec', array( &$multi ) );
		curl_multi_close( $multi );
		return $responses;
	} // phpcs:enable WordPress.WP.AlternativeFunctions

	/**
	 * @param array $capabilities Required capabilities.
	 * @return bool Whether curl can serve them.
	 */
	public static function test( $capabilities = array() ) {
		return WpOrg\Requests\Transport\Curl::test( $capabilities );
	}
}

/**
 * Run $call with WordPress's SSRF guard letting the configured Ollama server through (its host and port, often
 * loopback or a private network), for Ollama's own requests to that server only; anything else runs unchanged.
 * The bridge's transporter and its parallel warm-up (includes/cache.php) both send through it.
 *
 * @return mixed What $call returns.
 */
function aimo_bridge_with_ollama_allowed( string $provider_id, string $url, callable $call ) {
	$origin = 'ollama' === $provider_id ? aimo_bridge_ollama_origin() : null;
	if ( ! $origin || aimo_bridge_url_origin( $url ) !== $origin ) {
		return $call();
	}
	$external = static function ( $is_external, $host, $checked = '' ) use ( $origin ) {
		return aimo_bridge_url_origin( (string) $checked ) === $origin ? true : $is_external;
	};
	$ports    = static function ( $allowed, $host = '', $checked = '' ) use ( $origin ) {
		if ( is_array( $allowed ) && aimo_bridge_url_origin( (string) $checked ) === $origin ) {
			$allowed[] = $origin[1];
		}
		return $allowed;
	};
	add_filter( 'http_request_host_is_external', $external, 10, 3 );
	add_filter( 'http_allowed_safe_ports', $ports, 10, 3 );
	try {
		return $call();
	} finally {
		remove_filter( 'http_request_host_is_external', $external, 10 );
		remove_filter( 'http_allowed_safe_ports', $ports, 10 );
	}
}

/** The adapters' and model directory's HTTP goes through Aimo_Bridge_Transporter. */
trait Aimo_Bridge_Guarded_Transport {
	abstract protected function aimo_provider_id(): string;

	public function getHttpTransporter(): HttpTransporterInterface { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName.MethodNameInvalid -- overrides the AI Client's own method.
		$inner = parent::getHttpTransporter();
		return $inner instanceof Aimo_Bridge_Transporter ? $inner : new Aimo_Bridge_Transporter( $inner, $this->aimo_provider_id() );
	}
}

/** [host, port] of a URL (port defaulted from the scheme), or null. */
function aimo_bridge_url_origin( string $url ): ?array {
	$parts = wp_parse_url( $url );
	if ( ! is_array( $parts ) || empty( $parts['host'] ) ) {
		return null;
	}
	return array( strtolower( trim( $parts['host'], '[]' ) ), (int) ( $parts['port'] ?? ( 'https' === strtolower( $parts['scheme'] ?? '' ) ? 443 : 80 ) ) );
}

/** The configured Ollama server's [host, port]; while a new URL is being validated, that one (aimo_bridge_validate_key()). */
function aimo_bridge_ollama_origin(): ?array {
	/**
	 * Filters whether the bridge may reach the configured Ollama server although WordPress's SSRF guard refuses its
	 * host (loopback, private network) or port. Only the bridge's own requests to that host and port ever get it.
	 *
	 * @param bool $allow
	 */
	if ( ! (bool) apply_filters( 'aimo_allow_ollama_loopback', true ) ) {
		return null;
	}
	return aimo_bridge_url_origin( aimo_bridge_base_url( 'ollama', $GLOBALS['aimo_bridge_ollama_candidate'] ?? null ) );
}

/**
 * A provider served by the bridge; subclasses only name their id.
 */
abstract class Aimo_Bridge_Provider extends AbstractApiProvider {
	public const ID = '';

	protected static function baseUrl(): string {
		return aimo_bridge_base_url( static::ID );
	}

	protected static function createProviderMetadata(): ProviderMetadata {
		$conf = aimo_bridge_provider( static::ID );
		return new ProviderMetadata(
			static::ID,
			$conf['name'],
			'server' === $conf['type'] ? ProviderTypeEnum::server() : ProviderTypeEnum::cloud(),
			'' !== (string) $conf['credentials_url'] ? $conf['credentials_url'] : null,
			RequestAuthenticationMethod::apiKey(),
			'ollama' === static::ID
				? __( 'Local or self-hosted models through Ollama; the server URL is the credential. Served by the aimo bridge.', 'aimo-bridge' )
				: sprintf( /* translators: %s: provider name. */ __( '%s models through the aimo bridge.', 'aimo-bridge' ), $conf['name'] )
		);
	}

	protected static function createProviderAvailability(): ProviderAvailabilityInterface {
		return new ListModelsApiBasedProviderAvailability( static::modelMetadataDirectory() );
	}

	protected static function createModelMetadataDirectory(): ModelMetadataDirectoryInterface {
		return new Aimo_Bridge_Model_Directory( static::ID );
	}

	protected static function createModel( ModelMetadata $model_metadata, ProviderMetadata $provider_metadata ): ModelInterface {
		foreach ( $model_metadata->getSupportedCapabilities() as $capability ) {
			if ( $capability->isImageGeneration() ) {
				return new Aimo_Bridge_Image_Model( $model_metadata, $provider_metadata );
			}
		}
		if ( 'perplexity' === aimo_bridge_provider( static::ID )['kind'] ) {
			return new Aimo_Bridge_Perplexity_Model( $model_metadata, $provider_metadata );
		}
		return new Aimo_Bridge_Text_Model( $model_metadata, $provider_metadata );
	}
}

// One final class per provider id, generated from aimo's provider manifest.
require_once __DIR__ . '/provider-classes.php';

/** The adapter class serving a provider id. */
function aimo_bridge_provider_class( string $id ): string {
	return 'Aimo_Bridge_Provider_' . ucfirst( $id );
}

/**
 * Lists a provider's models. Results (and failures, briefly) are kept in the bridge's cache per provider, endpoint
 * and key fingerprint (includes/cache.php), unless `$live` asks for a real call (key validation, status?check=fresh).
 */
class Aimo_Bridge_Model_Directory extends AbstractOpenAiCompatibleModelMetadataDirectory {
	use Aimo_Bridge_Guarded_Transport;

	/** When true, skip the transient and ask the provider. */
	public static bool $live = false;

	private string $provider_id;

	public function __construct( string $provider_id ) {
		$this->provider_id = $provider_id;
	}

	protected function aimo_provider_id(): string {
		return $this->provider_id;
	}

	/** The AI Client's own cache is per class: make it per provider too. */
	protected function getBaseCacheKey(): string {
		return 'ai_client_' . AiClient::VERSION . '_' . md5( static::class . '|' . $this->provider_id );
	}

	protected function createRequest( HttpMethodEnum $method, string $path, array $headers = array(), $data = null ): Request {
		$credential = 'ollama' === $this->provider_id ? $this->credential() : null;
		return new Request( $method, aimo_bridge_url( $this->provider_id, $path, $credential ), $headers, $data );
	}

	/** The credential in use (throws when none is set, which the AI Client reads as "not configured"). */
	private function credential(): string {
		$auth = $this->getRequestAuthentication();
		return $auth instanceof ApiKeyRequestAuthentication ? $auth->getApiKey() : '';
	}

	/**
	 * The models of the provider for the current key: from the bridge's cache (includes/cache.php) unless `$live`;
	 * a cached failure is answered as it is until WP-Cron retries it. Otherwise one live fetch, cached either way.
	 */
	protected function sendListModelsRequest(): array {
		$id  = $this->provider_id;
		$key = $this->credential();
		$ck  = aimo_bridge_cache_key( $id, $key );
		if ( ! self::$live ) {
			$entry = aimo_bridge_cache_entry( $id, $ck );
			if ( $entry ) {
				if ( (int) $entry['until'] <= time() ) {
					aimo_bridge_schedule_refresh(); // past its time: served as it is, refreshed in the background
				}
				if ( ! empty( $entry['ok'] ) ) {
					return $this->to_metadata_map( (array) $entry['rows'] );
				}
				throw new RuntimeException( aimo_bridge_cached_failure_message( $entry ) ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- an exception message for the AI Client and logs, not HTML output
			}
		}
		$plan = $this->plan_for( $key );
		$got  = array();
		foreach ( $plan['requests'] as $name => $request ) { // one after another; the first failure ends it
			try {
				$got[ $name ] = $this->getHttpTransporter()->send( $request );
				ResponseUtil::throwIfNotSuccessful( $got[ $name ] );
			} catch ( Throwable $e ) {
				$got[ $name ] = $e;
				break;
			}
		}
		$result = $this->take_warm_responses( $plan, $got );
		if ( ! $result['connected'] ) {
			throw $result['exception'];
		}
		return $this->to_metadata_map( $result['rows'] );
	}

	/** What a parallel warm-up sends for this provider (null without a key): key check first, then the list. */
	public function warm_plan(): ?array {
		try {
			$key = $this->credential();
		} catch ( Throwable $e ) {
			return null;
		}
		return '' === $key ? null : $this->plan_for( $key );
	}

	/**
	 * What one check of this provider sends: the key check first, then the model list. Providers whose model list
	 * needs no key (OpenRouter, Hugging Face) name a key check in the manifest: a path under the base URL or a URL of
	 * its own. Otherwise listing the models is the check.
	 */
	private function plan_for( string $key ): array {
		$requests = array();
		$check    = (string) aimo_bridge_provider( $this->provider_id )['key_check'];
		if ( str_starts_with( $check, '/' ) ) {
			$requests['key'] = $this->getRequestAuthentication()->authenticateRequest( $this->createRequest( HttpMethodEnum::GET(), ltrim( $check, '/' ) ) );
		} elseif ( '' !== $check ) {
			$requests['key'] = $this->getRequestAuthentication()->authenticateRequest( new Request( HttpMethodEnum::GET(), aimo_bridge_key_check_url( $this->provider_id ) ) );
		}
		$requests['models'] = $this->models_request( $key );
		return array(
			'ck'       => aimo_bridge_cache_key( $this->provider_id, $key ),
			'key'      => $key,
			'requests' => $requests,
		);
	}

	/**
	 * Read the answers of a plan (responses or exceptions, by name), cache the list or the failure, remember the
	 * connected state. A failure of a key that is not the site's (a candidate being validated) is not cached.
	 *
	 * @return array{connected: bool, reason: string, rows?: array, exception?: Throwable}
	 */
	public function take_warm_responses( array $plan, array $got ): array {
		$id   = $this->provider_id;
		$rows = array();
		try {
			foreach ( array_keys( $plan['requests'] ) as $name ) {
				$response = $got[ $name ] ?? new NetworkException( 'no answer' );
				if ( $response instanceof Throwable ) {
					throw $response;
				}
				ResponseUtil::throwIfNotSuccessful( $response );
				if ( 'models' === $name ) {
					$rows = $this->rows_from( $response );
				}
			}
		} catch ( Throwable $e ) {
			$reason = aimo_bridge_error_reason( $e, $id, $plan['key'] );
			// A refusal of the bridge's own (a server-owned key for an overridden base URL) is policy, decided again at
			// every check and at no cost, not a provider failure: cached, it would outlive wp-config.php allowing it.
			if ( hash_equals( aimo_bridge_effective_key( $id )[0], $plan['key'] ) && null === aimo_bridge_override_refusal( $id, array( $plan['key'] ) ) ) {
				aimo_bridge_cache_store_failure( $id, $plan['ck'], $e, $reason );
			}
			aimo_bridge_remember_connected( $id, false, $reason );
			return array(
				'connected' => false,
				'reason'    => $reason,
				'exception' => $e,
			);
		}
		aimo_bridge_cache_store_rows( $id, $plan['ck'], $rows );
		aimo_bridge_remember_connected( $id, true, '' );
		return array(
			'connected' => true,
			'reason'    => '',
			'rows'      => $rows,
		);
	}

	private function models_request( string $key ): Request {
		$id      = $this->provider_id;
		$headers = array();
		if ( 'anthropic' === $id ) {
			$headers = array(
				'x-api-key'         => $key,
				'anthropic-version' => '2023-06-01',
			);
		}
		$request = $this->createRequest( HttpMethodEnum::GET(), 'anthropic' === $id ? 'models?limit=1000' : 'models', $headers );
		if ( 'ollama' !== $id ) { // Ollama's credential is its URL, not a bearer token.
			$request = $this->getRequestAuthentication()->authenticateRequest( $request );
		}
		return $request;
	}

	/** @return list<array{id:string,name:string,image:bool}> */
	private function rows_from( Response $response ): array {
		$id   = $this->provider_id;
		$data = $response->getData() ?? array();
		$list = isset( $data['data'] ) && is_array( $data['data'] ) ? $data['data'] : ( isset( $data['models'] ) && is_array( $data['models'] ) ? $data['models'] : ( array_is_list( $data ) ? $data : null ) );
		if ( ! is_array( $list ) ) {
			throw ResponseException::fromMissingData( esc_html( aimo_bridge_provider( $id )['name'] ), 'data' );
		}
		$rows = array();
		foreach ( $list as $item ) {
			$model_id = is_array( $item ) ? ( $item['id'] ?? $item['name'] ?? null ) : ( is_string( $item ) ? $item : null );
			if ( ! is_string( $model_id ) || '' === $model_id ) {
				continue;
			}
			if ( 'google' === $id && str_starts_with( $model_id, 'models/' ) ) {
				$model_id = substr( $model_id, 7 );
			}
			$kind = aimo_bridge_model_kind( $id, $model_id, is_array( $item ) ? $item : array() );
			if ( null === $kind ) {
				continue;
			}
			$name   = is_array( $item ) && is_string( $item['display_name'] ?? $item['name'] ?? null ) ? ( $item['display_name'] ?? $item['name'] ) : $model_id;
			$rows[] = array(
				'id'    => $model_id,
				'name'  => $name,
				'image' => 'image' === $kind,
			);
		}
		return $rows;
	}

	private function to_metadata_map( array $rows ): array {
		$map = array();
		foreach ( $rows as $row ) {
			$map[ $row['id'] ] = new ModelMetadata(
				$row['id'],
				$row['name'],
				$row['image'] ? array( CapabilityEnum::imageGeneration() ) : array( CapabilityEnum::textGeneration(), CapabilityEnum::chatHistory() ),
				$row['image'] ? aimo_bridge_image_options() : aimo_bridge_text_options( $this->provider_id )
			);
		}
		return $map;
	}

	protected function parseResponseToModelMetadataList( Response $response ): array {
		return array_values( $this->to_metadata_map( $this->rows_from( $response ) ) );
	}
}

/**
 * A key check that is a URL of its own (Hugging Face: whoami-v2 on the hub). With an overridden base URL (gateways,
 * tests) the same path next to it ({base without /v1}/api/whoami-v2). Constant AIMO_{ID}_KEY_CHECK_URL wins over
 * both (AIMO_HUGGINGFACE_WHOAMI_URL, its older name, too).
 */
function aimo_bridge_key_check_url( string $id ): string {
	foreach ( array( 'AIMO_' . strtoupper( $id ) . '_KEY_CHECK_URL', 'huggingface' === $id ? 'AIMO_HUGGINGFACE_WHOAMI_URL' : '' ) as $constant ) {
		if ( '' !== $constant && defined( $constant ) && is_string( constant( $constant ) ) && '' !== constant( $constant ) ) {
			return constant( $constant );
		}
	}
	$url  = (string) aimo_bridge_provider( $id )['key_check'];
	$base = aimo_bridge_base_url( $id );
	if ( untrailingslashit( (string) ( aimo_bridge_provider_defaults()[ $id ]['base_url'] ?? '' ) ) === $base ) {
		return $url;
	}
	return preg_replace( '#/v1$#', '', $base ) . (string) wp_parse_url( $url, PHP_URL_PATH );
}

/** 'text', 'image', or null for models the adapters cannot use (embeddings, speech, moderation, …). */
function aimo_bridge_model_kind( string $provider_id, string $model_id, array $item ): ?string {
	$lower = strtolower( $model_id );
	if ( preg_match( '/(embed|whisper|tts|transcribe|moderation|rerank|realtime|audio|search-preview|guard)/', $lower ) ) {
		return null;
	}
	if ( 'ollama' === $provider_id && str_contains( $lower, 'image' ) ) {
		return null; // image models in Ollama are not chat models
	}
	$modalities = $item['architecture']['output_modalities'] ?? null;
	if ( is_array( $modalities ) ) { // OpenRouter
		return in_array( 'text', $modalities, true ) ? 'text' : null;
	}
	if ( preg_match( '/^(dall-e|gpt-image|chatgpt-image)|imagen|image-generation|grok-[0-9a-z.-]*image/', $lower ) ) {
		return aimo_bridge_provider( $provider_id )['images'] ? 'image' : null;
	}
	return 'text';
}

/**
 * Options the text adapters accept, declared so the AI Client will choose these models. No-sampling models
 * still advertise temperature/top_p (or WordPress AI features requiring them would never pick the model); the
 * adapter strips them from the request instead.
 */
function aimo_bridge_text_options( string $provider_id ): array {
	$options = array(
		new SupportedOption( OptionEnum::systemInstruction() ),
		new SupportedOption( OptionEnum::maxTokens() ),
		new SupportedOption( OptionEnum::temperature() ),
		new SupportedOption( OptionEnum::topP() ),
		new SupportedOption( OptionEnum::stopSequences() ),
		new SupportedOption( OptionEnum::customOptions() ),
		new SupportedOption( OptionEnum::inputModalities(), array( array( ModalityEnum::text() ), array( ModalityEnum::text(), ModalityEnum::image() ) ) ),
		new SupportedOption( OptionEnum::outputModalities(), array( array( ModalityEnum::text() ) ) ),
	);
	if ( 'perplexity' !== aimo_bridge_provider( $provider_id )['kind'] ) {
		$options[] = new SupportedOption( OptionEnum::candidateCount() );
		$options[] = new SupportedOption( OptionEnum::presencePenalty() );
		$options[] = new SupportedOption( OptionEnum::frequencyPenalty() );
		$options[] = new SupportedOption( OptionEnum::functionDeclarations() );
		$options[] = new SupportedOption( OptionEnum::outputMimeType(), array( 'text/plain', 'application/json' ) );
		$options[] = new SupportedOption( OptionEnum::outputSchema() );
	}
	return $options;
}

function aimo_bridge_image_options(): array {
	return array(
		new SupportedOption( OptionEnum::inputModalities(), array( array( ModalityEnum::text() ) ) ),
		new SupportedOption( OptionEnum::outputModalities(), array( array( ModalityEnum::image() ) ) ),
		new SupportedOption( OptionEnum::candidateCount() ),
		new SupportedOption( OptionEnum::outputFileType() ),
		new SupportedOption( OptionEnum::outputMimeType() ),
		new SupportedOption( OptionEnum::outputMediaOrientation() ),
		new SupportedOption( OptionEnum::outputMediaAspectRatio() ),
		new SupportedOption( OptionEnum::customOptions() ),
	);
}

/** Join text-only content arrays into plain strings (Groq and others answer 400 to arrays of parts). */
function aimo_bridge_flatten_messages( array $messages ): array {
	foreach ( $messages as $i => $message ) {
		if ( ! isset( $message['content'] ) || ! is_array( $message['content'] ) ) {
			continue;
		}
		$texts = array();
		foreach ( $message['content'] as $part ) {
			if ( ! is_array( $part ) || 'text' !== ( $part['type'] ?? '' ) ) {
				continue 2; // images or audio: keep the parts
			}
			$texts[] = (string) ( $part['text'] ?? '' );
		}
		$messages[ $i ]['content'] = implode( "\n\n", $texts );
	}
	return $messages;
}

/** Map the finish reasons providers actually send onto the four the AI Client knows. */
function aimo_bridge_finish_reason( $reason, array $choice ): string {
	$reason = is_string( $reason ) ? strtolower( $reason ) : '';
	if ( in_array( $reason, array( 'stop', 'length', 'content_filter', 'tool_calls' ), true ) ) {
		return $reason;
	}
	if ( in_array( $reason, array( 'max_tokens', 'max_output_tokens', 'model_length' ), true ) ) {
		return 'length';
	}
	if ( in_array( $reason, array( 'tool_use', 'function_call' ), true ) || ! empty( $choice['message']['tool_calls'] ) ) {
		return 'tool_calls';
	}
	if ( in_array( $reason, array( 'safety', 'recitation', 'blocklist', 'prohibited_content' ), true ) ) {
		return 'content_filter';
	}
	return 'stop'; // end_turn, eos, stop_sequence, complete, null, …
}

/** Provider-specific request fixes, then the sampling rule. */
function aimo_bridge_adjust_params( string $provider_id, array $params ): array {
	$model = (string) ( $params['model'] ?? '' );
	if ( 'openai' === $provider_id && isset( $params['max_tokens'] ) && preg_match( '/^(o\d|gpt-5)/', $model ) ) {
		$params['max_completion_tokens'] = $params['max_tokens']; // reasoning models reject max_tokens
		unset( $params['max_tokens'] );
	}
	return aimo_bridge_strip_sampling( $params );
}

/** OpenAI-compatible chat completions for every provider but Perplexity. */
class Aimo_Bridge_Text_Model extends AbstractOpenAiCompatibleTextGenerationModel {
	use Aimo_Bridge_Guarded_Transport;

	protected function aimo_provider_id(): string {
		return $this->providerMetadata()->getId();
	}

	protected function createRequest( HttpMethodEnum $method, string $path, array $headers = array(), $data = null ): Request {
		$id         = $this->providerMetadata()->getId();
		$auth       = 'ollama' === $id ? $this->getRequestAuthentication() : null;
		$credential = $auth instanceof ApiKeyRequestAuthentication ? $auth->getApiKey() : null;
		return new Request( $method, aimo_bridge_url( $id, $path, $credential ), $headers, $data, $this->getRequestOptions() );
	}

	protected function prepareGenerateTextParams( array $prompt ): array {
		return aimo_bridge_adjust_params( $this->providerMetadata()->getId(), parent::prepareGenerateTextParams( $prompt ) );
	}

	protected function prepareMessagesParam( array $messages, ?string $system_instruction = null ): array {
		return aimo_bridge_flatten_messages( parent::prepareMessagesParam( $messages, $system_instruction ) );
	}

	protected function parseResponseChoiceToCandidate( array $choice_data, int $index ): Candidate {
		$choice_data['finish_reason'] = aimo_bridge_finish_reason( $choice_data['finish_reason'] ?? null, $choice_data );
		return parent::parseResponseChoiceToCandidate( $choice_data, $index );
	}
}

/** OpenAI-compatible image generation (OpenAI, xAI). */
class Aimo_Bridge_Image_Model extends AbstractOpenAiCompatibleImageGenerationModel {
	use Aimo_Bridge_Guarded_Transport;

	protected function aimo_provider_id(): string {
		return $this->providerMetadata()->getId();
	}

	protected function createRequest( HttpMethodEnum $method, string $path, array $headers = array(), $data = null ): Request {
		return new Request( $method, aimo_bridge_url( $this->providerMetadata()->getId(), $path ), $headers, $data, $this->getRequestOptions() );
	}
}

/**
 * Perplexity: chat completions were retired (2026-09-27); generation goes through POST /v1/agent, which takes
 * and returns the Responses format.
 */
class Aimo_Bridge_Perplexity_Model extends AbstractApiBasedModel implements TextGenerationModelInterface {
	use Aimo_Bridge_Guarded_Transport;

	protected function aimo_provider_id(): string {
		return $this->providerMetadata()->getId();
	}

	public function generateTextResult( array $prompt ): GenerativeAiResult {
		$config = $this->getConfig();
		$input  = array();
		foreach ( $prompt as $message ) {
			$text = array();
			foreach ( $message->getParts() as $part ) {
				if ( $part->getType()->isText() && ! $part->getChannel()->isThought() ) {
					$text[] = (string) $part->getText();
				}
			}
			$input[] = array(
				'role'    => $message->getRole() === MessageRoleEnum::model() ? 'assistant' : 'user',
				'content' => implode( "\n\n", $text ),
			);
		}
		$body = array(
			'model' => $this->metadata()->getId(),
			'input' => $input,
		);
		if ( $config->getSystemInstruction() ) {
			$body['instructions'] = $config->getSystemInstruction();
		}
		if ( null !== $config->getMaxTokens() ) {
			$body['max_output_tokens'] = $config->getMaxTokens();
		}
		if ( null !== $config->getTemperature() ) {
			$body['temperature'] = $config->getTemperature();
		}
		if ( null !== $config->getTopP() ) {
			$body['top_p'] = $config->getTopP();
		}
		if ( is_array( $config->getStopSequences() ) ) {
			$body['stop'] = $config->getStopSequences();
		}
		$body     = array_merge( $body, $config->getCustomOptions() );
		$body     = aimo_bridge_strip_sampling( $body );
		$request  = new Request( HttpMethodEnum::POST(), aimo_bridge_url( 'perplexity', 'agent' ), array( 'Content-Type' => 'application/json' ), $body, $this->getRequestOptions() );
		$request  = $this->getRequestAuthentication()->authenticateRequest( $request );
		$response = $this->getHttpTransporter()->send( $request );
		ResponseUtil::throwIfNotSuccessful( $response );
		return $this->parse( $response );
	}

	private function parse( Response $response ): GenerativeAiResult {
		$data = $response->getData() ?? array();
		$text = is_string( $data['output_text'] ?? null ) ? $data['output_text'] : '';
		if ( '' === $text && is_array( $data['output'] ?? null ) ) {
			foreach ( $data['output'] as $item ) {
				foreach ( (array) ( $item['content'] ?? array() ) as $content ) {
					if ( is_array( $content ) && is_string( $content['text'] ?? null ) ) {
						$text .= $content['text'];
					}
				}
			}
		}
		if ( '' === $text && ! isset( $data['output'] ) && ! isset( $data['output_text'] ) ) {
			throw ResponseException::fromMissingData( 'Perplexity', 'output' );
		}
		$status = (string) ( $data['status'] ?? 'completed' );
		$finish = 'incomplete' === $status ? FinishReasonEnum::length() : FinishReasonEnum::stop();
		$usage  = is_array( $data['usage'] ?? null ) ? $data['usage'] : array();
		$in     = (int) ( $usage['input_tokens'] ?? 0 );
		$out    = (int) ( $usage['output_tokens'] ?? 0 );
		return new GenerativeAiResult(
			is_string( $data['id'] ?? null ) ? $data['id'] : '',
			array( new Candidate( new Message( MessageRoleEnum::model(), array( new MessagePart( $text ) ) ), $finish ) ),
			new TokenUsage( $in, $out, (int) ( $usage['total_tokens'] ?? $in + $out ) ),
			$this->providerMetadata(),
			$this->metadata()
		);
	}
}
