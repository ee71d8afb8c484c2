/**
 * aimo bridge, Settings → Connectors: "Set up" on a connector managed by aimo shows the aimo commands
 * instead of core's key dialog. Reads the commands from the page's own connector data (data.aimo.setup).
 */
( function () {
	'use strict';

	function setupCommands() {
		var tag = document.getElementById( 'wp-script-module-data-options-connectors-wp-admin' );
		try {
			var data = JSON.parse( tag ? tag.textContent : '{}' );
			return ( data.aimo && data.aimo.setup ) || {};
		} catch ( e ) {
			return {};
		}
	}

	var commands = setupCommands();
	var names = Object.keys( commands );
	if ( ! names.length ) {
		return;
	}

	// The card of a connector: the nearest ancestor whose text names "… via aimo".
	function cardFor( button ) {
		for ( var node = button.parentElement; node && node !== document.body; node = node.parentElement ) {
			if ( /\svia aimo\b/.test( node.textContent || '' ) ) {
				return node;
			}
		}
		return null;
	}

	function idFor( card ) {
		var text = card.textContent || '';
		for ( var i = 0; i < names.length; i++ ) {
			if ( text.indexOf( commands[ names[ i ] ] ) !== -1 ) {
				return names[ i ];
			}
		}
		return null;
	}

	document.addEventListener(
		'click',
		function ( event ) {
			var button = event.target && event.target.closest ? event.target.closest( 'button' ) : null;
			if ( ! button || ( button.textContent || '' ).trim() !== 'Set up' ) {
				return;
			}
			var card = cardFor( button );
			var id = card && idFor( card );
			if ( ! id ) {
				return;
			}
			event.preventDefault();
			event.stopPropagation();
			if ( card.querySelector( '.aimo-setup-hint' ) ) {
				return;
			}
			var hint = document.createElement( 'p' );
			hint.className = 'aimo-setup-hint';
			hint.setAttribute( 'role', 'status' );
			hint.textContent = 'Set this credential from your terminal with aimo: ' + commands[ id ];
			button.parentElement.appendChild( hint );
		},
		true
	);
} )();
