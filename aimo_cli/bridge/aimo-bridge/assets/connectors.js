/**
 * aimo bridge, Settings → Connectors: "Set up" or "Edit" on a connector the bridge serves explains the aimo commands
 * to run instead of opening core's key dialog (keys typed there skip aimo's checks and its local source of truth).
 * Reads the commands from the page's own connector data (data.aimo.setup, one entry per connector the bridge
 * serves). The explanation is a <dialog> of our own, appended to <body>: React's nodes are never changed.
 */
( function () {
	'use strict';

	function pageData() {
		var tag = document.getElementById( 'wp-script-module-data-options-connectors-wp-admin' );
		try {
			return JSON.parse( tag ? tag.textContent : '{}' ) || {};
		} catch ( e ) {
			return {};
		}
	}

	var data = pageData();
	var commands = ( data.aimo && data.aimo.setup ) || {};
	var connectors = data.connectors || {};
	var ids = Object.keys( commands ).filter( function ( id ) {
		return connectors[ id ] && connectors[ id ].name;
	} );
	if ( ! ids.length ) {
		return;
	}
	var i18n = window.wp && window.wp.i18n;
	var __ = i18n ? i18n.__ : function ( s ) {
		return s;
	};
	var sprintf = i18n
		? i18n.sprintf
		: function ( format ) {
				var rest = Array.prototype.slice.call( arguments, 1 );
				return format.replace( /%(\d+)\$s|%s/g, function ( m, n ) {
					return String( n ? rest[ n - 1 ] : rest.shift() );
				} );
		  };
	var DOMAIN = 'aimo-bridge';

	/*
	 * The connector whose card holds a button: walking up from the button, the first ancestor whose text names
	 * exactly one connector of the page is its card; it is ours when that connector is one the bridge serves.
	 */
	var all = Object.keys( connectors ).filter( function ( id ) {
		return connectors[ id ] && connectors[ id ].name;
	} );

	function idFor( button ) {
		for ( var node = button.parentElement; node && node !== document.body; node = node.parentElement ) {
			var text = node.textContent || '';
			var found = all.filter( function ( id ) {
				return text.indexOf( connectors[ id ].name ) !== -1;
			} );
			if ( found.length ) {
				return found.length === 1 && ids.indexOf( found[ 0 ] ) !== -1 ? found[ 0 ] : null;
			}
		}
		return null;
	}

	var dialog;

	function el( tag, attrs, text ) {
		var node = document.createElement( tag );
		Object.keys( attrs || {} ).forEach( function ( name ) {
			node.setAttribute( name, attrs[ name ] );
		} );
		if ( text ) {
			node.textContent = text;
		}
		return node;
	}

	function build() {
		dialog = el( 'dialog', { id: 'aimo-setup-dialog', 'aria-labelledby': 'aimo-setup-title', 'aria-describedby': 'aimo-setup-text' } );
		dialog.style.cssText = 'max-width:34em;border:0;border-radius:12px;padding:24px;box-shadow:0 8px 32px rgba(0,0,0,.25);';
		var title = el( 'h2', { id: 'aimo-setup-title' } );
		title.style.cssText = 'margin:0 0 8px;font-size:18px;';
		var text = el( 'p', { id: 'aimo-setup-text' } );
		var code = el( 'pre', { class: 'aimo-setup-commands' } );
		code.style.cssText = 'background:#f0f0f1;padding:10px 12px;border-radius:4px;white-space:pre-wrap;font-size:13px;';
		var status = el( 'p', { role: 'status', 'aria-live': 'polite', class: 'aimo-setup-status' } );
		status.style.cssText = 'min-height:1.5em;margin:8px 0 0;';
		var actions = el( 'p', {} );
		actions.style.cssText = 'display:flex;gap:8px;justify-content:flex-end;margin:16px 0 0;';
		var copy = el( 'button', { type: 'button', class: 'button button-secondary', 'data-aimo-action': 'copy' }, __( 'Copy commands', DOMAIN ) );
		var close = el( 'button', { type: 'button', class: 'button button-primary', 'data-aimo-action': 'close' }, __( 'Close', DOMAIN ) );
		copy.addEventListener( 'click', function () {
			var done = function () {
				status.textContent = __( 'Copied.', DOMAIN );
			};
			var fail = function () {
				status.textContent = __( 'Select the commands and copy them.', DOMAIN );
			};
			if ( navigator.clipboard && window.isSecureContext ) {
				navigator.clipboard.writeText( code.textContent ).then( done, fail );
			} else {
				fail();
			}
		} );
		close.addEventListener( 'click', function () {
			dialog.close();
		} );
		actions.appendChild( copy );
		actions.appendChild( close );
		dialog.appendChild( title );
		dialog.appendChild( text );
		dialog.appendChild( code );
		dialog.appendChild( status );
		dialog.appendChild( actions );
		document.body.appendChild( dialog );
	}

	function explain( id ) {
		if ( ! dialog ) {
			build();
		}
		var connector = connectors[ id ];
		var keyed = connector.authentication && connector.authentication.keySource && connector.authentication.keySource !== 'none';
		var what = id === 'ollama' ? __( 'server URL', DOMAIN ) : __( 'key', DOMAIN );
		dialog.setAttribute( 'data-aimo-connector', id );
		dialog.querySelector( '#aimo-setup-title' ).textContent = sprintf(
			/* translators: %s: connector name, e.g. "Groq via aimo". */
			keyed ? __( 'Change the credential of %s', DOMAIN ) : __( 'Set up %s', DOMAIN ),
			connector.name
		);
		dialog.querySelector( '#aimo-setup-text' ).textContent = sprintf(
			/* translators: %s: "key" or "server URL". */
			__( 'This connector is managed with the aimo command line, not on this page: set its %s from your terminal, where aimo checks it with the provider and keeps it in its own store, then push it to this site:', DOMAIN ),
			what
		);
		dialog.querySelector( '.aimo-setup-commands' ).textContent = commands[ id ].split( ' && ' ).join( '\n' );
		dialog.querySelector( '.aimo-setup-status' ).textContent = '';
		if ( ! dialog.open ) {
			dialog.showModal();
		}
	}

	// Capture phase on the document: runs before React's own listener on its root, which never sees the click.
	document.addEventListener(
		'click',
		function ( event ) {
			var button = event.target && event.target.closest ? event.target.closest( 'button' ) : null;
			if ( ! button || ( dialog && dialog.contains( button ) ) || ! document.getElementById( 'options-connectors-wp-admin-app' ).contains( button ) ) {
				return;
			}
			var id = idFor( button );
			if ( ! id ) {
				return;
			}
			event.preventDefault();
			event.stopPropagation();
			explain( id );
		},
		true
	);
} )();
