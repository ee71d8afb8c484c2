/**
 * aimo bridge, Settings → Connectors: the banner (aimo's mode, a competing manager, Enable / Stop / Take over /
 * Dismiss) and the Text and Image model pickers for WordPress AI.
 *
 * Renders only into its own <section id="aimo-connectors-banner">, printed by the server before the page's
 * React root: no node of the React app is created, moved or observed. Talks to the bridge's REST routes
 * (aimo/v1) through wp.apiFetch, which adds the admin's REST nonce. State comes from window.aimoBridgeBanner.
 */
( function ( wp, state ) {
	'use strict';

	var host = document.getElementById( 'aimo-connectors-banner' );
	if ( ! host || ! state || ! wp || ! wp.apiFetch || ! wp.i18n ) {
		return;
	}
	var __ = wp.i18n.__;
	var _n = wp.i18n._n;
	var sprintf = wp.i18n.sprintf;
	var DOMAIN = 'aimo-bridge';
	var busy = false;

	// -- small DOM helpers (our own nodes only) -----------------------------------------------------------------

	function el( tag, attrs, children ) {
		var node = document.createElement( tag );
		Object.keys( attrs || {} ).forEach( function ( name ) {
			var value = attrs[ name ];
			if ( value === null || value === undefined || value === false ) {
				return;
			}
			if ( name === 'text' ) {
				node.textContent = value;
			} else if ( name === 'onClick' ) {
				node.addEventListener( 'click', value );
			} else if ( name === 'onChange' ) {
				node.addEventListener( 'change', value );
			} else {
				node.setAttribute( name, value === true ? '' : String( value ) );
			}
		} );
		( children || [] ).forEach( function ( child ) {
			if ( child ) {
				node.appendChild( typeof child === 'string' ? document.createTextNode( child ) : child );
			}
		} );
		return node;
	}

	function button( label, action, primary, extra ) {
		var attrs = { type: 'button', class: 'button ' + ( primary ? 'button-primary' : 'button-secondary' ), 'data-aimo-action': action };
		Object.keys( extra || {} ).forEach( function ( k ) {
			attrs[ k ] = extra[ k ];
		} );
		attrs.onClick = function () {
			run( action );
		};
		return el( 'button', attrs, [ label ] );
	}

	function list( names ) {
		/* translators: separator between provider names in a list. */
		return names.join( __( ', ', DOMAIN ) );
	}

	// -- the banner ---------------------------------------------------------------------------------------------

	var status; // the live region of the current banner
	var modelsBox; // the pickers (managed mode)

	function say( message, isError ) {
		if ( ! status ) {
			return;
		}
		status.textContent = message || '';
		status.classList.toggle( 'is-error', !! isError );
	}

	function kind() {
		if ( state.mode === 'managed' ) {
			return state.managers.length ? 'conflict' : 'managed';
		}
		if ( state.mode !== 'observe' || state.dismissed ) {
			return null; // off: no banner; observe: dismissed by the admin
		}
		return state.managers.length ? 'competitor' : 'observe';
	}

	function render() {
		var which = kind();
		host.textContent = '';
		status = null;
		modelsBox = null;
		if ( ! which ) {
			host.hidden = true;
			fitLayout();
			return;
		}
		var providers = state.providers || [];
		var served = providers.filter( function ( p ) {
			return p.served;
		} );
		var candidates = providers.filter( function ( p ) {
			return ! p.other;
		} );
		var keyed = candidates.filter( function ( p ) {
			return p.keyed;
		} );
		var manager = state.managers[ 0 ] || '';
		var title;
		var body = [];
		var actions = [];

		if ( which === 'observe' ) {
			title = sprintf(
				/* translators: %d: number of AI providers. */
				_n( 'aimo can manage %d AI provider here', 'aimo can manage %d AI providers here', candidates.length, DOMAIN ),
				candidates.length
			);
			body.push(
				sprintf(
					/* translators: 1: list of provider names, 2: how many of them have a key. */
					__( 'Enable it to serve %1$s to WordPress AI features through the aimo bridge, with the keys you set from the terminal (aimo keys set, then aimo sync push). %2$s Nothing changes until you enable it.', DOMAIN ),
					list( candidates.map( function ( p ) {
						return p.name;
					} ) ),
					keyed.length
						? sprintf(
								/* translators: %d: number of providers. */
								_n( '%d of them has a key on this site already.', '%d of them have a key on this site already.', keyed.length, DOMAIN ),
								keyed.length
						  )
						: __( 'None of them has a key on this site yet.', DOMAIN )
				)
			);
			actions.push( button( __( 'Enable', DOMAIN ), 'enable', true ) );
			actions.push( button( __( 'Dismiss', DOMAIN ), 'dismiss', false ) );
		} else if ( which === 'competitor' ) {
			title = sprintf(
				/* translators: %s: plugin name. */
				__( '%s manages the connectors on this site', DOMAIN ),
				manager
			);
			body.push(
				sprintf(
					/* translators: %s: plugin name. */
					__( 'aimo can take over: %s is switched to observe mode and its keys are untouched. Only one plugin should manage connectors at a time.', DOMAIN ),
					manager
				)
			);
			actions.push( button( __( 'Take over', DOMAIN ), 'take-over', true ) );
			actions.push( button( __( 'Dismiss', DOMAIN ), 'dismiss', false ) );
		} else if ( which === 'conflict' ) {
			title = sprintf(
				/* translators: %s: plugin name. */
				__( '%s has taken over the connectors from aimo', DOMAIN ),
				manager
			);
			body.push(
				sprintf(
					/* translators: %s: plugin name. */
					__( 'aimo is still in managed mode, but %s manages connectors too. Take back control (it is switched to observe mode; its keys are untouched), or stop aimo to leave it in charge.', DOMAIN ),
					manager
				)
			);
			actions.push( button( __( 'Take back control', DOMAIN ), 'take-over', true ) );
			actions.push( button( __( 'Stop', DOMAIN ), 'stop', false ) );
		} else {
			title = __( 'Managed by aimo', DOMAIN );
			body.push(
				sprintf(
					/* translators: 1: number of providers, 2: list of provider names. */
					_n( 'aimo serves %1$d AI provider here: %2$s.', 'aimo serves %1$d AI providers here: %2$s.', served.length, DOMAIN ),
					served.length,
					list( served.map( function ( p ) {
						return p.name;
					} ) )
				) +
					' ' +
					__( 'Set keys from the terminal: aimo keys set ID, then aimo sync push.', DOMAIN )
			);
			actions.push( button( __( 'Stop', DOMAIN ), 'stop', false, { title: __( 'Back to observe mode; keys are untouched.', DOMAIN ) } ) );
		}

		var card = el( 'div', { class: 'aimo-banner aimo-banner--' + which, 'data-aimo-state': which }, [
			el( 'div', { class: 'aimo-banner__main' }, [
				el( 'h2', { class: 'aimo-banner__title', text: title } ),
				el( 'p', { class: 'aimo-banner__text', text: body.join( ' ' ) } ),
			] ),
			el( 'div', { class: 'aimo-banner__actions' }, actions ),
		] );
		if ( which === 'managed' || which === 'conflict' ) {
			modelsBox = pickers();
			card.appendChild( modelsBox );
		}
		status = el( 'p', { class: 'aimo-banner__status', role: 'status', 'aria-live': 'polite' } );
		card.appendChild( status );
		host.appendChild( card );
		host.hidden = false;
		fitLayout();
		if ( modelsBox ) {
			loadModels( false );
		}
	}

	// -- actions ------------------------------------------------------------------------------------------------

	function api( path, method, data ) {
		return wp.apiFetch( { path: '/aimo/v1/' + path, method: method || 'GET', data: data } );
	}

	function setBusy( on ) {
		busy = on;
		host.setAttribute( 'aria-busy', on ? 'true' : 'false' );
		Array.prototype.forEach.call( host.querySelectorAll( 'button, select' ), function ( node ) {
			if ( on ) {
				node.setAttribute( 'disabled', '' );
			} else if ( ! node.hasAttribute( 'data-aimo-keep-disabled' ) ) {
				node.removeAttribute( 'disabled' );
			}
		} );
	}

	function failed( error ) {
		setBusy( false );
		say( ( error && error.message ) || __( 'The request failed.', DOMAIN ), true );
	}

	function reloadAfter( message ) {
		say( message );
		window.location.reload();
	}

	function run( action ) {
		if ( busy ) {
			return;
		}
		setBusy( true );
		if ( action === 'enable' || action === 'take-over' ) {
			say( __( 'Switching aimo to managed mode…', DOMAIN ) );
			api( 'mode', 'POST', { mode: 'managed', take_over: action === 'take-over' } ).then( function () {
				reloadAfter( __( 'aimo manages the connectors now. Reloading…', DOMAIN ) );
			}, failed );
		} else if ( action === 'stop' ) {
			say( __( 'Switching aimo to observe mode…', DOMAIN ) );
			api( 'mode', 'POST', { mode: 'observe' } ).then( function () {
				reloadAfter( __( 'aimo is back in observe mode; keys are untouched. Reloading…', DOMAIN ) );
			}, failed );
		} else if ( action === 'dismiss' ) {
			api( 'banner', 'POST', { dismissed: true } ).then( function () {
				busy = false;
				state.dismissed = true;
				render();
			}, failed );
		} else if ( action === 'refresh' ) {
			setBusy( false );
			loadModels( true );
		} else {
			setBusy( false );
		}
	}

	// -- model pickers ------------------------------------------------------------------------------------------

	var KINDS = [
		{ key: 'text', label: __( 'Text', DOMAIN ) },
		{ key: 'image', label: __( 'Image', DOMAIN ) },
	];

	function pickers() {
		var fields = KINDS.map( function ( k ) {
			var id = 'aimo-model-' + k.key;
			return el( 'div', { class: 'aimo-banner__field' }, [
				el( 'label', { for: id, text: k.label } ),
				el(
					'select',
					{
						id: id,
						'data-aimo-kind': k.key,
						disabled: true,
						onChange: function ( event ) {
							choose( k, event.target );
						},
					},
					[ el( 'option', { value: '', text: __( 'Loading models…', DOMAIN ) } ) ]
				),
			] );
		} );
		var refresh = el(
			'button',
			{
				type: 'button',
				class: 'button button-secondary aimo-banner__refresh',
				'data-aimo-action': 'refresh',
				title: __( 'Reload the model lists from the providers', DOMAIN ),
				onClick: function () {
					run( 'refresh' );
				},
			},
			[
				el( 'span', { class: 'dashicons dashicons-update', 'aria-hidden': 'true' } ),
				el( 'span', { class: 'screen-reader-text', text: __( 'Refresh model lists', DOMAIN ) } ),
			]
		);
		var empty = el( 'p', { class: 'aimo-banner__empty', hidden: true, text: __( 'Connect a provider above to choose models.', DOMAIN ) } );
		return el( 'div', { class: 'aimo-banner__models', role: 'group', 'aria-label': __( 'WordPress AI models', DOMAIN ) }, [
			el( 'span', { class: 'aimo-banner__models-label', text: __( 'WordPress AI models:', DOMAIN ) } ),
		].concat( fields, [ refresh, empty ] ) );
	}

	function describe( ref, providers ) {
		if ( ! ref ) {
			return __( 'Automatic (WordPress default)', DOMAIN );
		}
		var cut = ref.indexOf( ':' );
		var pid = ref.slice( 0, cut );
		var mid = ref.slice( cut + 1 );
		var p = ( providers || [] ).filter( function ( x ) {
			return x.id === pid;
		} )[ 0 ];
		return sprintf( /* translators: 1: provider name, 2: model id. */ __( '%1$s: %2$s', DOMAIN ), p ? p.name : pid, mid );
	}

	var lastLists = [];

	function fill( select, k, providers, selected ) {
		select.textContent = '';
		select.appendChild( el( 'option', { value: '', text: __( 'Automatic (WordPress default)', DOMAIN ) } ) );
		var found = ! selected;
		providers.forEach( function ( p ) {
			var models = p[ k.key ] || [];
			if ( ! models.length ) {
				return;
			}
			var group = el( 'optgroup', { label: p.name, 'data-provider': p.id } );
			models.forEach( function ( m ) {
				var value = p.id + ':' + m.id;
				found = found || value === selected;
				group.appendChild( el( 'option', { value: value, text: m.name && m.name !== m.id ? m.name + ' (' + m.id + ')' : m.id } ) );
			} );
			select.appendChild( group );
		} );
		if ( ! found ) {
			// A saved choice whose provider is not connected (or no longer lists it): shown, not offered.
			select.appendChild(
				el( 'option', { value: selected, disabled: true, text: sprintf( /* translators: %s: provider and model. */ __( '%s (not available)', DOMAIN ), describe( selected, providers ) ) } )
			);
		}
		select.value = selected || '';
		select.setAttribute( 'data-aimo-value', selected || '' );
	}

	function loadModels( refresh ) {
		var box = modelsBox;
		if ( ! box ) {
			return;
		}
		var selects = box.querySelectorAll( 'select' );
		var refreshButton = box.querySelector( '.aimo-banner__refresh' );
		busy = true;
		refreshButton.setAttribute( 'disabled', '' );
		box.setAttribute( 'aria-busy', 'true' );
		if ( refresh ) {
			say( __( 'Reloading the model lists from the providers…', DOMAIN ) );
		}
		api( refresh ? 'models?refresh=1' : 'models' ).then(
			function ( answer ) {
				busy = false;
				if ( box !== modelsBox ) {
					return;
				}
				var providers = ( answer && answer.providers ) || [];
				lastLists = providers;
				state.models = ( answer && answer.selected ) || state.models;
				box.removeAttribute( 'aria-busy' );
				refreshButton.removeAttribute( 'disabled' );
				var none = ! providers.length;
				box.querySelector( '.aimo-banner__empty' ).hidden = ! none;
				Array.prototype.forEach.call( selects, function ( select, i ) {
					fill( select, KINDS[ i ], providers, state.models[ KINDS[ i ].key ] || '' );
					if ( none ) {
						select.setAttribute( 'disabled', '' );
						select.setAttribute( 'data-aimo-keep-disabled', '' );
					} else {
						select.removeAttribute( 'disabled' );
						select.removeAttribute( 'data-aimo-keep-disabled' );
					}
				} );
				if ( refresh ) {
					var count = providers.reduce( function ( n, p ) {
						return n + p.text.length + p.image.length;
					}, 0 );
					say(
						none
							? __( 'Model lists reloaded: no provider is connected.', DOMAIN )
							: sprintf(
									/* translators: 1: number of models, 2: number of providers. */
									__( 'Model lists reloaded: %1$s from %2$s.', DOMAIN ),
									sprintf( _n( '%d model', '%d models', count, DOMAIN ), count ),
									sprintf( _n( '%d connected provider', '%d connected providers', providers.length, DOMAIN ), providers.length )
							  )
					);
				}
			},
			function ( error ) {
				busy = false;
				box.removeAttribute( 'aria-busy' );
				refreshButton.removeAttribute( 'disabled' );
				say( sprintf( /* translators: %s: error message. */ __( 'Could not load the model lists: %s', DOMAIN ), ( error && error.message ) || '' ), true );
			}
		);
	}

	function choose( k, select ) {
		var previous = select.getAttribute( 'data-aimo-value' ) || '';
		var value = select.value;
		var data = {};
		data[ k.key ] = value;
		setBusy( true );
		api( 'models', 'POST', data ).then(
			function ( saved ) {
				setBusy( false );
				state.models = saved || state.models;
				select.setAttribute( 'data-aimo-value', value );
				say(
					sprintf(
						/* translators: 1: "Text" or "Image", 2: the chosen model or Automatic. */
						__( '%1$s model saved: %2$s.', DOMAIN ),
						k.label,
						describe( value, lastLists )
					)
				);
			},
			function ( error ) {
				select.value = previous;
				failed( error );
			}
		);
	}

	// -- layout: the page's React layout is absolutely positioned; make room for the banner above it ------------

	function fitLayout() {
		var height = host.hidden ? 0 : host.offsetHeight;
		document.documentElement.style.setProperty( '--aimo-banner-height', height + 'px' );
		document.body.classList.toggle( 'aimo-has-banner', height > 0 );
	}

	// Our own node only: its size feeds a CSS variable the React layout reads; that never resizes the banner back.
	if ( window.ResizeObserver ) {
		new window.ResizeObserver( fitLayout ).observe( host );
	} else {
		window.addEventListener( 'resize', fitLayout );
	}
	window.addEventListener( 'load', fitLayout );

	if ( document.readyState === 'loading' ) {
		document.addEventListener( 'DOMContentLoaded', render );
	} else {
		render();
	}
} )( window.wp, window.aimoBridgeBanner );
