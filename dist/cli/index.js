#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 9693:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

/*

The MIT License (MIT)

Original Library
  - Copyright (c) Marak Squires

Additional functionality
 - Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (sindresorhus.com)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.

*/

var colors = {};
module['exports'] = colors;

colors.themes = {};

var util = __nccwpck_require__(9023);
var ansiStyles = colors.styles = __nccwpck_require__(2251);
var defineProps = Object.defineProperties;
var newLineRegex = new RegExp(/[\r\n]+/g);

colors.supportsColor = (__nccwpck_require__(8740).supportsColor);

if (typeof colors.enabled === 'undefined') {
  colors.enabled = colors.supportsColor() !== false;
}

colors.enable = function() {
  colors.enabled = true;
};

colors.disable = function() {
  colors.enabled = false;
};

colors.stripColors = colors.strip = function(str) {
  return ('' + str).replace(/\x1B\[\d+m/g, '');
};

// eslint-disable-next-line no-unused-vars
var stylize = colors.stylize = function stylize(str, style) {
  if (!colors.enabled) {
    return str+'';
  }

  var styleMap = ansiStyles[style];

  // Stylize should work for non-ANSI styles, too
  if (!styleMap && style in colors) {
    // Style maps like trap operate as functions on strings;
    // they don't have properties like open or close.
    return colors[style](str);
  }

  return styleMap.open + str + styleMap.close;
};

var matchOperatorsRe = /[|\\{}()[\]^$+*?.]/g;
var escapeStringRegexp = function(str) {
  if (typeof str !== 'string') {
    throw new TypeError('Expected a string');
  }
  return str.replace(matchOperatorsRe, '\\$&');
};

function build(_styles) {
  var builder = function builder() {
    return applyStyle.apply(builder, arguments);
  };
  builder._styles = _styles;
  // __proto__ is used because we must return a function, but there is
  // no way to create a function with a different prototype.
  builder.__proto__ = proto;
  return builder;
}

var styles = (function() {
  var ret = {};
  ansiStyles.grey = ansiStyles.gray;
  Object.keys(ansiStyles).forEach(function(key) {
    ansiStyles[key].closeRe =
      new RegExp(escapeStringRegexp(ansiStyles[key].close), 'g');
    ret[key] = {
      get: function() {
        return build(this._styles.concat(key));
      },
    };
  });
  return ret;
})();

var proto = defineProps(function colors() {}, styles);

function applyStyle() {
  var args = Array.prototype.slice.call(arguments);

  var str = args.map(function(arg) {
    // Use weak equality check so we can colorize null/undefined in safe mode
    if (arg != null && arg.constructor === String) {
      return arg;
    } else {
      return util.inspect(arg);
    }
  }).join(' ');

  if (!colors.enabled || !str) {
    return str;
  }

  var newLinesPresent = str.indexOf('\n') != -1;

  var nestedStyles = this._styles;

  var i = nestedStyles.length;
  while (i--) {
    var code = ansiStyles[nestedStyles[i]];
    str = code.open + str.replace(code.closeRe, code.open) + code.close;
    if (newLinesPresent) {
      str = str.replace(newLineRegex, function(match) {
        return code.close + match + code.open;
      });
    }
  }

  return str;
}

colors.setTheme = function(theme) {
  if (typeof theme === 'string') {
    console.log('colors.setTheme now only accepts an object, not a string.  ' +
      'If you are trying to set a theme from a file, it is now your (the ' +
      'caller\'s) responsibility to require the file.  The old syntax ' +
      'looked like colors.setTheme(__dirname + ' +
      '\'/../themes/generic-logging.js\'); The new syntax looks like '+
      'colors.setTheme(require(__dirname + ' +
      '\'/../themes/generic-logging.js\'));');
    return;
  }
  for (var style in theme) {
    (function(style) {
      colors[style] = function(str) {
        if (typeof theme[style] === 'object') {
          var out = str;
          for (var i in theme[style]) {
            out = colors[theme[style][i]](out);
          }
          return out;
        }
        return colors[theme[style]](str);
      };
    })(style);
  }
};

function init() {
  var ret = {};
  Object.keys(styles).forEach(function(name) {
    ret[name] = {
      get: function() {
        return build([name]);
      },
    };
  });
  return ret;
}

var sequencer = function sequencer(map, str) {
  var exploded = str.split('');
  exploded = exploded.map(map);
  return exploded.join('');
};

// custom formatter methods
colors.trap = __nccwpck_require__(2154);
colors.zalgo = __nccwpck_require__(9312);

// maps
colors.maps = {};
colors.maps.america = __nccwpck_require__(8881)(colors);
colors.maps.zebra = __nccwpck_require__(5337)(colors);
colors.maps.rainbow = __nccwpck_require__(8543)(colors);
colors.maps.random = __nccwpck_require__(1298)(colors);

for (var map in colors.maps) {
  (function(map) {
    colors[map] = function(str) {
      return sequencer(colors.maps[map], str);
    };
  })(map);
}

defineProps(colors, init());


/***/ }),

/***/ 2154:
/***/ ((module) => {

module['exports'] = function runTheTrap(text, options) {
  var result = '';
  text = text || 'Run the trap, drop the bass';
  text = text.split('');
  var trap = {
    a: ['\u0040', '\u0104', '\u023a', '\u0245', '\u0394', '\u039b', '\u0414'],
    b: ['\u00df', '\u0181', '\u0243', '\u026e', '\u03b2', '\u0e3f'],
    c: ['\u00a9', '\u023b', '\u03fe'],
    d: ['\u00d0', '\u018a', '\u0500', '\u0501', '\u0502', '\u0503'],
    e: ['\u00cb', '\u0115', '\u018e', '\u0258', '\u03a3', '\u03be', '\u04bc',
      '\u0a6c'],
    f: ['\u04fa'],
    g: ['\u0262'],
    h: ['\u0126', '\u0195', '\u04a2', '\u04ba', '\u04c7', '\u050a'],
    i: ['\u0f0f'],
    j: ['\u0134'],
    k: ['\u0138', '\u04a0', '\u04c3', '\u051e'],
    l: ['\u0139'],
    m: ['\u028d', '\u04cd', '\u04ce', '\u0520', '\u0521', '\u0d69'],
    n: ['\u00d1', '\u014b', '\u019d', '\u0376', '\u03a0', '\u048a'],
    o: ['\u00d8', '\u00f5', '\u00f8', '\u01fe', '\u0298', '\u047a', '\u05dd',
      '\u06dd', '\u0e4f'],
    p: ['\u01f7', '\u048e'],
    q: ['\u09cd'],
    r: ['\u00ae', '\u01a6', '\u0210', '\u024c', '\u0280', '\u042f'],
    s: ['\u00a7', '\u03de', '\u03df', '\u03e8'],
    t: ['\u0141', '\u0166', '\u0373'],
    u: ['\u01b1', '\u054d'],
    v: ['\u05d8'],
    w: ['\u0428', '\u0460', '\u047c', '\u0d70'],
    x: ['\u04b2', '\u04fe', '\u04fc', '\u04fd'],
    y: ['\u00a5', '\u04b0', '\u04cb'],
    z: ['\u01b5', '\u0240'],
  };
  text.forEach(function(c) {
    c = c.toLowerCase();
    var chars = trap[c] || [' '];
    var rand = Math.floor(Math.random() * chars.length);
    if (typeof trap[c] !== 'undefined') {
      result += trap[c][rand];
    } else {
      result += c;
    }
  });
  return result;
};


/***/ }),

/***/ 9312:
/***/ ((module) => {

// please no
module['exports'] = function zalgo(text, options) {
  text = text || '   he is here   ';
  var soul = {
    'up': [
      '̍', '̎', '̄', '̅',
      '̿', '̑', '̆', '̐',
      '͒', '͗', '͑', '̇',
      '̈', '̊', '͂', '̓',
      '̈', '͊', '͋', '͌',
      '̃', '̂', '̌', '͐',
      '̀', '́', '̋', '̏',
      '̒', '̓', '̔', '̽',
      '̉', 'ͣ', 'ͤ', 'ͥ',
      'ͦ', 'ͧ', 'ͨ', 'ͩ',
      'ͪ', 'ͫ', 'ͬ', 'ͭ',
      'ͮ', 'ͯ', '̾', '͛',
      '͆', '̚',
    ],
    'down': [
      '̖', '̗', '̘', '̙',
      '̜', '̝', '̞', '̟',
      '̠', '̤', '̥', '̦',
      '̩', '̪', '̫', '̬',
      '̭', '̮', '̯', '̰',
      '̱', '̲', '̳', '̹',
      '̺', '̻', '̼', 'ͅ',
      '͇', '͈', '͉', '͍',
      '͎', '͓', '͔', '͕',
      '͖', '͙', '͚', '̣',
    ],
    'mid': [
      '̕', '̛', '̀', '́',
      '͘', '̡', '̢', '̧',
      '̨', '̴', '̵', '̶',
      '͜', '͝', '͞',
      '͟', '͠', '͢', '̸',
      '̷', '͡', ' ҉',
    ],
  };
  var all = [].concat(soul.up, soul.down, soul.mid);

  function randomNumber(range) {
    var r = Math.floor(Math.random() * range);
    return r;
  }

  function isChar(character) {
    var bool = false;
    all.filter(function(i) {
      bool = (i === character);
    });
    return bool;
  }


  function heComes(text, options) {
    var result = '';
    var counts;
    var l;
    options = options || {};
    options['up'] =
      typeof options['up'] !== 'undefined' ? options['up'] : true;
    options['mid'] =
      typeof options['mid'] !== 'undefined' ? options['mid'] : true;
    options['down'] =
      typeof options['down'] !== 'undefined' ? options['down'] : true;
    options['size'] =
      typeof options['size'] !== 'undefined' ? options['size'] : 'maxi';
    text = text.split('');
    for (l in text) {
      if (isChar(l)) {
        continue;
      }
      result = result + text[l];
      counts = {'up': 0, 'down': 0, 'mid': 0};
      switch (options.size) {
        case 'mini':
          counts.up = randomNumber(8);
          counts.mid = randomNumber(2);
          counts.down = randomNumber(8);
          break;
        case 'maxi':
          counts.up = randomNumber(16) + 3;
          counts.mid = randomNumber(4) + 1;
          counts.down = randomNumber(64) + 3;
          break;
        default:
          counts.up = randomNumber(8) + 1;
          counts.mid = randomNumber(6) / 2;
          counts.down = randomNumber(8) + 1;
          break;
      }

      var arr = ['up', 'mid', 'down'];
      for (var d in arr) {
        var index = arr[d];
        for (var i = 0; i <= counts[index]; i++) {
          if (options[index]) {
            result = result + soul[index][randomNumber(soul[index].length)];
          }
        }
      }
    }
    return result;
  }
  // don't summon him
  return heComes(text, options);
};



/***/ }),

/***/ 8881:
/***/ ((module) => {

module['exports'] = function(colors) {
  return function(letter, i, exploded) {
    if (letter === ' ') return letter;
    switch (i%3) {
      case 0: return colors.red(letter);
      case 1: return colors.white(letter);
      case 2: return colors.blue(letter);
    }
  };
};


/***/ }),

/***/ 8543:
/***/ ((module) => {

module['exports'] = function(colors) {
  // RoY G BiV
  var rainbowColors = ['red', 'yellow', 'green', 'blue', 'magenta'];
  return function(letter, i, exploded) {
    if (letter === ' ') {
      return letter;
    } else {
      return colors[rainbowColors[i++ % rainbowColors.length]](letter);
    }
  };
};



/***/ }),

/***/ 1298:
/***/ ((module) => {

module['exports'] = function(colors) {
  var available = ['underline', 'inverse', 'grey', 'yellow', 'red', 'green',
    'blue', 'white', 'cyan', 'magenta', 'brightYellow', 'brightRed',
    'brightGreen', 'brightBlue', 'brightWhite', 'brightCyan', 'brightMagenta'];
  return function(letter, i, exploded) {
    return letter === ' ' ? letter :
      colors[
          available[Math.round(Math.random() * (available.length - 2))]
      ](letter);
  };
};


/***/ }),

/***/ 5337:
/***/ ((module) => {

module['exports'] = function(colors) {
  return function(letter, i, exploded) {
    return i % 2 === 0 ? letter : colors.inverse(letter);
  };
};


/***/ }),

/***/ 2251:
/***/ ((module) => {

/*
The MIT License (MIT)

Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (sindresorhus.com)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.

*/

var styles = {};
module['exports'] = styles;

var codes = {
  reset: [0, 0],

  bold: [1, 22],
  dim: [2, 22],
  italic: [3, 23],
  underline: [4, 24],
  inverse: [7, 27],
  hidden: [8, 28],
  strikethrough: [9, 29],

  black: [30, 39],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  white: [37, 39],
  gray: [90, 39],
  grey: [90, 39],

  brightRed: [91, 39],
  brightGreen: [92, 39],
  brightYellow: [93, 39],
  brightBlue: [94, 39],
  brightMagenta: [95, 39],
  brightCyan: [96, 39],
  brightWhite: [97, 39],

  bgBlack: [40, 49],
  bgRed: [41, 49],
  bgGreen: [42, 49],
  bgYellow: [43, 49],
  bgBlue: [44, 49],
  bgMagenta: [45, 49],
  bgCyan: [46, 49],
  bgWhite: [47, 49],
  bgGray: [100, 49],
  bgGrey: [100, 49],

  bgBrightRed: [101, 49],
  bgBrightGreen: [102, 49],
  bgBrightYellow: [103, 49],
  bgBrightBlue: [104, 49],
  bgBrightMagenta: [105, 49],
  bgBrightCyan: [106, 49],
  bgBrightWhite: [107, 49],

  // legacy styles for colors pre v1.0.0
  blackBG: [40, 49],
  redBG: [41, 49],
  greenBG: [42, 49],
  yellowBG: [43, 49],
  blueBG: [44, 49],
  magentaBG: [45, 49],
  cyanBG: [46, 49],
  whiteBG: [47, 49],

};

Object.keys(codes).forEach(function(key) {
  var val = codes[key];
  var style = styles[key] = [];
  style.open = '\u001b[' + val[0] + 'm';
  style.close = '\u001b[' + val[1] + 'm';
});


/***/ }),

/***/ 4982:
/***/ ((module) => {

/*
MIT License

Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (sindresorhus.com)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
*/



module.exports = function(flag, argv) {
  argv = argv || process.argv;

  var terminatorPos = argv.indexOf('--');
  var prefix = /^-{1,2}/.test(flag) ? '' : '--';
  var pos = argv.indexOf(prefix + flag);

  return pos !== -1 && (terminatorPos === -1 ? true : pos < terminatorPos);
};


/***/ }),

/***/ 8740:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

/*
The MIT License (MIT)

Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (sindresorhus.com)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.

*/



var os = __nccwpck_require__(857);
var hasFlag = __nccwpck_require__(4982);

var env = process.env;

var forceColor = void 0;
if (hasFlag('no-color') || hasFlag('no-colors') || hasFlag('color=false')) {
  forceColor = false;
} else if (hasFlag('color') || hasFlag('colors') || hasFlag('color=true')
           || hasFlag('color=always')) {
  forceColor = true;
}
if ('FORCE_COLOR' in env) {
  forceColor = env.FORCE_COLOR.length === 0
    || parseInt(env.FORCE_COLOR, 10) !== 0;
}

function translateLevel(level) {
  if (level === 0) {
    return false;
  }

  return {
    level: level,
    hasBasic: true,
    has256: level >= 2,
    has16m: level >= 3,
  };
}

function supportsColor(stream) {
  if (forceColor === false) {
    return 0;
  }

  if (hasFlag('color=16m') || hasFlag('color=full')
      || hasFlag('color=truecolor')) {
    return 3;
  }

  if (hasFlag('color=256')) {
    return 2;
  }

  if (stream && !stream.isTTY && forceColor !== true) {
    return 0;
  }

  var min = forceColor ? 1 : 0;

  if (process.platform === 'win32') {
    // Node.js 7.5.0 is the first version of Node.js to include a patch to
    // libuv that enables 256 color output on Windows. Anything earlier and it
    // won't work. However, here we target Node.js 8 at minimum as it is an LTS
    // release, and Node.js 7 is not. Windows 10 build 10586 is the first
    // Windows release that supports 256 colors. Windows 10 build 14931 is the
    // first release that supports 16m/TrueColor.
    var osRelease = os.release().split('.');
    if (Number(process.versions.node.split('.')[0]) >= 8
        && Number(osRelease[0]) >= 10 && Number(osRelease[2]) >= 10586) {
      return Number(osRelease[2]) >= 14931 ? 3 : 2;
    }

    return 1;
  }

  if ('CI' in env) {
    if (['TRAVIS', 'CIRCLECI', 'APPVEYOR', 'GITLAB_CI'].some(function(sign) {
      return sign in env;
    }) || env.CI_NAME === 'codeship') {
      return 1;
    }

    return min;
  }

  if ('TEAMCITY_VERSION' in env) {
    return (/^(9\.(0*[1-9]\d*)\.|\d{2,}\.)/.test(env.TEAMCITY_VERSION) ? 1 : 0
    );
  }

  if ('TERM_PROGRAM' in env) {
    var version = parseInt((env.TERM_PROGRAM_VERSION || '').split('.')[0], 10);

    switch (env.TERM_PROGRAM) {
      case 'iTerm.app':
        return version >= 3 ? 3 : 2;
      case 'Hyper':
        return 3;
      case 'Apple_Terminal':
        return 2;
      // No default
    }
  }

  if (/-256(color)?$/i.test(env.TERM)) {
    return 2;
  }

  if (/^screen|^xterm|^vt100|^rxvt|color|ansi|cygwin|linux/i.test(env.TERM)) {
    return 1;
  }

  if ('COLORTERM' in env) {
    return 1;
  }

  if (env.TERM === 'dumb') {
    return min;
  }

  return min;
}

function getSupportLevel(stream) {
  var level = supportsColor(stream);
  return translateLevel(level);
}

module.exports = {
  supportsColor: getSupportLevel,
  stdout: getSupportLevel(process.stdout),
  stderr: getSupportLevel(process.stderr),
};


/***/ }),

/***/ 2708:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

//
// Remark: Requiring this file will use the "safe" colors API,
// which will not touch String.prototype.
//
//   var colors = require('colors/safe');
//   colors.red("foo")
//
//
var colors = __nccwpck_require__(9693);
module['exports'] = colors;


/***/ }),

/***/ 21:
/***/ ((module) => {



module.exports = ({onlyFirst = false} = {}) => {
	const pattern = [
		'[\\u001B\\u009B][[\\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]+)*|[a-zA-Z\\d]+(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]*)*)?\\u0007)',
		'(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PR-TZcf-ntqry=><~]))'
	].join('|');

	return new RegExp(pattern, onlyFirst ? undefined : 'g');
};


/***/ }),

/***/ 5832:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

module.exports = __nccwpck_require__(9441);

/***/ }),

/***/ 5532:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {


const stripAnsi = __nccwpck_require__(5318);
const isFullwidthCodePoint = __nccwpck_require__(4519);
const emojiRegex = __nccwpck_require__(872);

const stringWidth = string => {
	if (typeof string !== 'string' || string.length === 0) {
		return 0;
	}

	string = stripAnsi(string);

	if (string.length === 0) {
		return 0;
	}

	string = string.replace(emojiRegex(), '  ');

	let width = 0;

	for (let i = 0; i < string.length; i++) {
		const code = string.codePointAt(i);

		// Ignore control characters
		if (code <= 0x1F || (code >= 0x7F && code <= 0x9F)) {
			continue;
		}

		// Ignore combining characters
		if (code >= 0x300 && code <= 0x36F) {
			continue;
		}

		// Surrogates
		if (code > 0xFFFF) {
			i++;
		}

		width += isFullwidthCodePoint(code) ? 2 : 1;
	}

	return width;
};

module.exports = stringWidth;
// TODO: remove this in the next major version
module.exports["default"] = stringWidth;


/***/ }),

/***/ 5318:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {


const ansiRegex = __nccwpck_require__(21);

module.exports = string => typeof string === 'string' ? string.replace(ansiRegex(), '') : string;


/***/ }),

/***/ 6573:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const { info, debug } = __nccwpck_require__(7150);
const utils = __nccwpck_require__(8268);

class Cell {
  /**
   * A representation of a cell within the table.
   * Implementations must have `init` and `draw` methods,
   * as well as `colSpan`, `rowSpan`, `desiredHeight` and `desiredWidth` properties.
   * @param options
   * @constructor
   */
  constructor(options) {
    this.setOptions(options);

    /**
     * Each cell will have it's `x` and `y` values set by the `layout-manager` prior to
     * `init` being called;
     * @type {Number}
     */
    this.x = null;
    this.y = null;
  }

  setOptions(options) {
    if (['boolean', 'number', 'bigint', 'string'].indexOf(typeof options) !== -1) {
      options = { content: '' + options };
    }
    options = options || {};
    this.options = options;
    let content = options.content;
    if (['boolean', 'number', 'bigint', 'string'].indexOf(typeof content) !== -1) {
      this.content = String(content);
    } else if (!content) {
      this.content = this.options.href || '';
    } else {
      throw new Error('Content needs to be a primitive, got: ' + typeof content);
    }
    this.colSpan = options.colSpan || 1;
    this.rowSpan = options.rowSpan || 1;
    if (this.options.href) {
      Object.defineProperty(this, 'href', {
        get() {
          return this.options.href;
        },
      });
    }
  }

  mergeTableOptions(tableOptions, cells) {
    this.cells = cells;

    let optionsChars = this.options.chars || {};
    let tableChars = tableOptions.chars;
    let chars = (this.chars = {});
    CHAR_NAMES.forEach(function (name) {
      setOption(optionsChars, tableChars, name, chars);
    });

    this.truncate = this.options.truncate || tableOptions.truncate;

    let style = (this.options.style = this.options.style || {});
    let tableStyle = tableOptions.style;
    setOption(style, tableStyle, 'padding-left', this);
    setOption(style, tableStyle, 'padding-right', this);
    this.head = style.head || tableStyle.head;
    this.border = style.border || tableStyle.border;

    this.fixedWidth = tableOptions.colWidths[this.x];
    this.lines = this.computeLines(tableOptions);

    this.desiredWidth = utils.strlen(this.content) + this.paddingLeft + this.paddingRight;
    this.desiredHeight = this.lines.length;
  }

  computeLines(tableOptions) {
    const tableWordWrap = tableOptions.wordWrap || tableOptions.textWrap;
    const { wordWrap = tableWordWrap } = this.options;
    if (this.fixedWidth && wordWrap) {
      this.fixedWidth -= this.paddingLeft + this.paddingRight;
      if (this.colSpan) {
        let i = 1;
        while (i < this.colSpan) {
          this.fixedWidth += tableOptions.colWidths[this.x + i];
          i++;
        }
      }
      const { wrapOnWordBoundary: tableWrapOnWordBoundary = true } = tableOptions;
      const { wrapOnWordBoundary = tableWrapOnWordBoundary } = this.options;
      return this.wrapLines(utils.wordWrap(this.fixedWidth, this.content, wrapOnWordBoundary));
    }
    return this.wrapLines(this.content.split('\n'));
  }

  wrapLines(computedLines) {
    const lines = utils.colorizeLines(computedLines);
    if (this.href) {
      return lines.map((line) => utils.hyperlink(this.href, line));
    }
    return lines;
  }

  /**
   * Initializes the Cells data structure.
   *
   * @param tableOptions - A fully populated set of tableOptions.
   * In addition to the standard default values, tableOptions must have fully populated the
   * `colWidths` and `rowWidths` arrays. Those arrays must have lengths equal to the number
   * of columns or rows (respectively) in this table, and each array item must be a Number.
   *
   */
  init(tableOptions) {
    let x = this.x;
    let y = this.y;
    this.widths = tableOptions.colWidths.slice(x, x + this.colSpan);
    this.heights = tableOptions.rowHeights.slice(y, y + this.rowSpan);
    this.width = this.widths.reduce(sumPlusOne, -1);
    this.height = this.heights.reduce(sumPlusOne, -1);

    this.hAlign = this.options.hAlign || tableOptions.colAligns[x];
    this.vAlign = this.options.vAlign || tableOptions.rowAligns[y];

    this.drawRight = x + this.colSpan == tableOptions.colWidths.length;
  }

  /**
   * Draws the given line of the cell.
   * This default implementation defers to methods `drawTop`, `drawBottom`, `drawLine` and `drawEmpty`.
   * @param lineNum - can be `top`, `bottom` or a numerical line number.
   * @param spanningCell - will be a number if being called from a RowSpanCell, and will represent how
   * many rows below it's being called from. Otherwise it's undefined.
   * @returns {String} The representation of this line.
   */
  draw(lineNum, spanningCell) {
    if (lineNum == 'top') return this.drawTop(this.drawRight);
    if (lineNum == 'bottom') return this.drawBottom(this.drawRight);
    let content = utils.truncate(this.content, 10, this.truncate);
    if (!lineNum) {
      info(`${this.y}-${this.x}: ${this.rowSpan - lineNum}x${this.colSpan} Cell ${content}`);
    } else {
      // debug(`${lineNum}-${this.x}: 1x${this.colSpan} RowSpanCell ${content}`);
    }
    let padLen = Math.max(this.height - this.lines.length, 0);
    let padTop;
    switch (this.vAlign) {
      case 'center':
        padTop = Math.ceil(padLen / 2);
        break;
      case 'bottom':
        padTop = padLen;
        break;
      default:
        padTop = 0;
    }
    if (lineNum < padTop || lineNum >= padTop + this.lines.length) {
      return this.drawEmpty(this.drawRight, spanningCell);
    }
    let forceTruncation = this.lines.length > this.height && lineNum + 1 >= this.height;
    return this.drawLine(lineNum - padTop, this.drawRight, forceTruncation, spanningCell);
  }

  /**
   * Renders the top line of the cell.
   * @param drawRight - true if this method should render the right edge of the cell.
   * @returns {String}
   */
  drawTop(drawRight) {
    let content = [];
    if (this.cells) {
      //TODO: cells should always exist - some tests don't fill it in though
      this.widths.forEach(function (width, index) {
        content.push(this._topLeftChar(index));
        content.push(utils.repeat(this.chars[this.y == 0 ? 'top' : 'mid'], width));
      }, this);
    } else {
      content.push(this._topLeftChar(0));
      content.push(utils.repeat(this.chars[this.y == 0 ? 'top' : 'mid'], this.width));
    }
    if (drawRight) {
      content.push(this.chars[this.y == 0 ? 'topRight' : 'rightMid']);
    }
    return this.wrapWithStyleColors('border', content.join(''));
  }

  _topLeftChar(offset) {
    let x = this.x + offset;
    let leftChar;
    if (this.y == 0) {
      leftChar = x == 0 ? 'topLeft' : offset == 0 ? 'topMid' : 'top';
    } else {
      if (x == 0) {
        leftChar = 'leftMid';
      } else {
        leftChar = offset == 0 ? 'midMid' : 'bottomMid';
        if (this.cells) {
          //TODO: cells should always exist - some tests don't fill it in though
          let spanAbove = this.cells[this.y - 1][x] instanceof Cell.ColSpanCell;
          if (spanAbove) {
            leftChar = offset == 0 ? 'topMid' : 'mid';
          }
          if (offset == 0) {
            let i = 1;
            while (this.cells[this.y][x - i] instanceof Cell.ColSpanCell) {
              i++;
            }
            if (this.cells[this.y][x - i] instanceof Cell.RowSpanCell) {
              leftChar = 'leftMid';
            }
          }
        }
      }
    }
    return this.chars[leftChar];
  }

  wrapWithStyleColors(styleProperty, content) {
    if (this[styleProperty] && this[styleProperty].length) {
      try {
        let colors = __nccwpck_require__(2708);
        for (let i = this[styleProperty].length - 1; i >= 0; i--) {
          colors = colors[this[styleProperty][i]];
        }
        return colors(content);
      } catch (e) {
        return content;
      }
    } else {
      return content;
    }
  }

  /**
   * Renders a line of text.
   * @param lineNum - Which line of text to render. This is not necessarily the line within the cell.
   * There may be top-padding above the first line of text.
   * @param drawRight - true if this method should render the right edge of the cell.
   * @param forceTruncationSymbol - `true` if the rendered text should end with the truncation symbol even
   * if the text fits. This is used when the cell is vertically truncated. If `false` the text should
   * only include the truncation symbol if the text will not fit horizontally within the cell width.
   * @param spanningCell - a number of if being called from a RowSpanCell. (how many rows below). otherwise undefined.
   * @returns {String}
   */
  drawLine(lineNum, drawRight, forceTruncationSymbol, spanningCell) {
    let left = this.chars[this.x == 0 ? 'left' : 'middle'];
    if (this.x && spanningCell && this.cells) {
      let cellLeft = this.cells[this.y + spanningCell][this.x - 1];
      while (cellLeft instanceof ColSpanCell) {
        cellLeft = this.cells[cellLeft.y][cellLeft.x - 1];
      }
      if (!(cellLeft instanceof RowSpanCell)) {
        left = this.chars['rightMid'];
      }
    }
    let leftPadding = utils.repeat(' ', this.paddingLeft);
    let right = drawRight ? this.chars['right'] : '';
    let rightPadding = utils.repeat(' ', this.paddingRight);
    let line = this.lines[lineNum];
    let len = this.width - (this.paddingLeft + this.paddingRight);
    if (forceTruncationSymbol) line += this.truncate || '…';
    let content = utils.truncate(line, len, this.truncate);
    content = utils.pad(content, len, ' ', this.hAlign);
    content = leftPadding + content + rightPadding;
    return this.stylizeLine(left, content, right);
  }

  stylizeLine(left, content, right) {
    left = this.wrapWithStyleColors('border', left);
    right = this.wrapWithStyleColors('border', right);
    if (this.y === 0) {
      content = this.wrapWithStyleColors('head', content);
    }
    return left + content + right;
  }

  /**
   * Renders the bottom line of the cell.
   * @param drawRight - true if this method should render the right edge of the cell.
   * @returns {String}
   */
  drawBottom(drawRight) {
    let left = this.chars[this.x == 0 ? 'bottomLeft' : 'bottomMid'];
    let content = utils.repeat(this.chars.bottom, this.width);
    let right = drawRight ? this.chars['bottomRight'] : '';
    return this.wrapWithStyleColors('border', left + content + right);
  }

  /**
   * Renders a blank line of text within the cell. Used for top and/or bottom padding.
   * @param drawRight - true if this method should render the right edge of the cell.
   * @param spanningCell - a number of if being called from a RowSpanCell. (how many rows below). otherwise undefined.
   * @returns {String}
   */
  drawEmpty(drawRight, spanningCell) {
    let left = this.chars[this.x == 0 ? 'left' : 'middle'];
    if (this.x && spanningCell && this.cells) {
      let cellLeft = this.cells[this.y + spanningCell][this.x - 1];
      while (cellLeft instanceof ColSpanCell) {
        cellLeft = this.cells[cellLeft.y][cellLeft.x - 1];
      }
      if (!(cellLeft instanceof RowSpanCell)) {
        left = this.chars['rightMid'];
      }
    }
    let right = drawRight ? this.chars['right'] : '';
    let content = utils.repeat(' ', this.width);
    return this.stylizeLine(left, content, right);
  }
}

class ColSpanCell {
  /**
   * A Cell that doesn't do anything. It just draws empty lines.
   * Used as a placeholder in column spanning.
   * @constructor
   */
  constructor() {}

  draw(lineNum) {
    if (typeof lineNum === 'number') {
      debug(`${this.y}-${this.x}: 1x1 ColSpanCell`);
    }
    return '';
  }

  init() {}

  mergeTableOptions() {}
}

class RowSpanCell {
  /**
   * A placeholder Cell for a Cell that spans multiple rows.
   * It delegates rendering to the original cell, but adds the appropriate offset.
   * @param originalCell
   * @constructor
   */
  constructor(originalCell) {
    this.originalCell = originalCell;
  }

  init(tableOptions) {
    let y = this.y;
    let originalY = this.originalCell.y;
    this.cellOffset = y - originalY;
    this.offset = findDimension(tableOptions.rowHeights, originalY, this.cellOffset);
  }

  draw(lineNum) {
    if (lineNum == 'top') {
      return this.originalCell.draw(this.offset, this.cellOffset);
    }
    if (lineNum == 'bottom') {
      return this.originalCell.draw('bottom');
    }
    debug(`${this.y}-${this.x}: 1x${this.colSpan} RowSpanCell for ${this.originalCell.content}`);
    return this.originalCell.draw(this.offset + 1 + lineNum);
  }

  mergeTableOptions() {}
}

function firstDefined(...args) {
  return args.filter((v) => v !== undefined && v !== null).shift();
}

// HELPER FUNCTIONS
function setOption(objA, objB, nameB, targetObj) {
  let nameA = nameB.split('-');
  if (nameA.length > 1) {
    nameA[1] = nameA[1].charAt(0).toUpperCase() + nameA[1].substr(1);
    nameA = nameA.join('');
    targetObj[nameA] = firstDefined(objA[nameA], objA[nameB], objB[nameA], objB[nameB]);
  } else {
    targetObj[nameB] = firstDefined(objA[nameB], objB[nameB]);
  }
}

function findDimension(dimensionTable, startingIndex, span) {
  let ret = dimensionTable[startingIndex];
  for (let i = 1; i < span; i++) {
    ret += 1 + dimensionTable[startingIndex + i];
  }
  return ret;
}

function sumPlusOne(a, b) {
  return a + b + 1;
}

let CHAR_NAMES = [
  'top',
  'top-mid',
  'top-left',
  'top-right',
  'bottom',
  'bottom-mid',
  'bottom-left',
  'bottom-right',
  'left',
  'left-mid',
  'mid',
  'mid-mid',
  'right',
  'right-mid',
  'middle',
];

module.exports = Cell;
module.exports.ColSpanCell = ColSpanCell;
module.exports.RowSpanCell = RowSpanCell;


/***/ }),

/***/ 7150:
/***/ ((module) => {

let messages = [];
let level = 0;

const debug = (msg, min) => {
  if (level >= min) {
    messages.push(msg);
  }
};

debug.WARN = 1;
debug.INFO = 2;
debug.DEBUG = 3;

debug.reset = () => {
  messages = [];
};

debug.setDebugLevel = (v) => {
  level = v;
};

debug.warn = (msg) => debug(msg, debug.WARN);
debug.info = (msg) => debug(msg, debug.INFO);
debug.debug = (msg) => debug(msg, debug.DEBUG);

debug.debugMessages = () => messages;

module.exports = debug;


/***/ }),

/***/ 2237:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const { warn, debug } = __nccwpck_require__(7150);
const Cell = __nccwpck_require__(6573);
const { ColSpanCell, RowSpanCell } = Cell;

(function () {
  function next(alloc, col) {
    if (alloc[col] > 0) {
      return next(alloc, col + 1);
    }
    return col;
  }

  function layoutTable(table) {
    let alloc = {};
    table.forEach(function (row, rowIndex) {
      let col = 0;
      row.forEach(function (cell) {
        cell.y = rowIndex;
        // Avoid erroneous call to next() on first row
        cell.x = rowIndex ? next(alloc, col) : col;
        const rowSpan = cell.rowSpan || 1;
        const colSpan = cell.colSpan || 1;
        if (rowSpan > 1) {
          for (let cs = 0; cs < colSpan; cs++) {
            alloc[cell.x + cs] = rowSpan;
          }
        }
        col = cell.x + colSpan;
      });
      Object.keys(alloc).forEach((idx) => {
        alloc[idx]--;
        if (alloc[idx] < 1) delete alloc[idx];
      });
    });
  }

  function maxWidth(table) {
    let mw = 0;
    table.forEach(function (row) {
      row.forEach(function (cell) {
        mw = Math.max(mw, cell.x + (cell.colSpan || 1));
      });
    });
    return mw;
  }

  function maxHeight(table) {
    return table.length;
  }

  function cellsConflict(cell1, cell2) {
    let yMin1 = cell1.y;
    let yMax1 = cell1.y - 1 + (cell1.rowSpan || 1);
    let yMin2 = cell2.y;
    let yMax2 = cell2.y - 1 + (cell2.rowSpan || 1);
    let yConflict = !(yMin1 > yMax2 || yMin2 > yMax1);

    let xMin1 = cell1.x;
    let xMax1 = cell1.x - 1 + (cell1.colSpan || 1);
    let xMin2 = cell2.x;
    let xMax2 = cell2.x - 1 + (cell2.colSpan || 1);
    let xConflict = !(xMin1 > xMax2 || xMin2 > xMax1);

    return yConflict && xConflict;
  }

  function conflictExists(rows, x, y) {
    let i_max = Math.min(rows.length - 1, y);
    let cell = { x: x, y: y };
    for (let i = 0; i <= i_max; i++) {
      let row = rows[i];
      for (let j = 0; j < row.length; j++) {
        if (cellsConflict(cell, row[j])) {
          return true;
        }
      }
    }
    return false;
  }

  function allBlank(rows, y, xMin, xMax) {
    for (let x = xMin; x < xMax; x++) {
      if (conflictExists(rows, x, y)) {
        return false;
      }
    }
    return true;
  }

  function addRowSpanCells(table) {
    table.forEach(function (row, rowIndex) {
      row.forEach(function (cell) {
        for (let i = 1; i < cell.rowSpan; i++) {
          let rowSpanCell = new RowSpanCell(cell);
          rowSpanCell.x = cell.x;
          rowSpanCell.y = cell.y + i;
          rowSpanCell.colSpan = cell.colSpan;
          insertCell(rowSpanCell, table[rowIndex + i]);
        }
      });
    });
  }

  function addColSpanCells(cellRows) {
    for (let rowIndex = cellRows.length - 1; rowIndex >= 0; rowIndex--) {
      let cellColumns = cellRows[rowIndex];
      for (let columnIndex = 0; columnIndex < cellColumns.length; columnIndex++) {
        let cell = cellColumns[columnIndex];
        for (let k = 1; k < cell.colSpan; k++) {
          let colSpanCell = new ColSpanCell();
          colSpanCell.x = cell.x + k;
          colSpanCell.y = cell.y;
          cellColumns.splice(columnIndex + 1, 0, colSpanCell);
        }
      }
    }
  }

  function insertCell(cell, row) {
    let x = 0;
    while (x < row.length && row[x].x < cell.x) {
      x++;
    }
    row.splice(x, 0, cell);
  }

  function fillInTable(table) {
    let h_max = maxHeight(table);
    let w_max = maxWidth(table);
    debug(`Max rows: ${h_max}; Max cols: ${w_max}`);
    for (let y = 0; y < h_max; y++) {
      for (let x = 0; x < w_max; x++) {
        if (!conflictExists(table, x, y)) {
          let opts = { x: x, y: y, colSpan: 1, rowSpan: 1 };
          x++;
          while (x < w_max && !conflictExists(table, x, y)) {
            opts.colSpan++;
            x++;
          }
          let y2 = y + 1;
          while (y2 < h_max && allBlank(table, y2, opts.x, opts.x + opts.colSpan)) {
            opts.rowSpan++;
            y2++;
          }
          let cell = new Cell(opts);
          cell.x = opts.x;
          cell.y = opts.y;
          warn(`Missing cell at ${cell.y}-${cell.x}.`);
          insertCell(cell, table[y]);
        }
      }
    }
  }

  function generateCells(rows) {
    return rows.map(function (row) {
      if (!Array.isArray(row)) {
        let key = Object.keys(row)[0];
        row = row[key];
        if (Array.isArray(row)) {
          row = row.slice();
          row.unshift(key);
        } else {
          row = [key, row];
        }
      }
      return row.map(function (cell) {
        return new Cell(cell);
      });
    });
  }

  function makeTableLayout(rows) {
    let cellRows = generateCells(rows);
    layoutTable(cellRows);
    fillInTable(cellRows);
    addRowSpanCells(cellRows);
    addColSpanCells(cellRows);
    return cellRows;
  }

  module.exports = {
    makeTableLayout: makeTableLayout,
    layoutTable: layoutTable,
    addRowSpanCells: addRowSpanCells,
    maxWidth: maxWidth,
    fillInTable: fillInTable,
    computeWidths: makeComputeWidths('colSpan', 'desiredWidth', 'x', 1),
    computeHeights: makeComputeWidths('rowSpan', 'desiredHeight', 'y', 1),
  };
})();

function makeComputeWidths(colSpan, desiredWidth, x, forcedMin) {
  return function (vals, table) {
    let result = [];
    let spanners = [];
    let auto = {};
    table.forEach(function (row) {
      row.forEach(function (cell) {
        if ((cell[colSpan] || 1) > 1) {
          spanners.push(cell);
        } else {
          result[cell[x]] = Math.max(result[cell[x]] || 0, cell[desiredWidth] || 0, forcedMin);
        }
      });
    });

    vals.forEach(function (val, index) {
      if (typeof val === 'number') {
        result[index] = val;
      }
    });

    //spanners.forEach(function(cell){
    for (let k = spanners.length - 1; k >= 0; k--) {
      let cell = spanners[k];
      let span = cell[colSpan];
      let col = cell[x];
      let existingWidth = result[col];
      let editableCols = typeof vals[col] === 'number' ? 0 : 1;
      if (typeof existingWidth === 'number') {
        for (let i = 1; i < span; i++) {
          existingWidth += 1 + result[col + i];
          if (typeof vals[col + i] !== 'number') {
            editableCols++;
          }
        }
      } else {
        existingWidth = desiredWidth === 'desiredWidth' ? cell.desiredWidth - 1 : 1;
        if (!auto[col] || auto[col] < existingWidth) {
          auto[col] = existingWidth;
        }
      }

      if (cell[desiredWidth] > existingWidth) {
        let i = 0;
        while (editableCols > 0 && cell[desiredWidth] > existingWidth) {
          if (typeof vals[col + i] !== 'number') {
            let dif = Math.round((cell[desiredWidth] - existingWidth) / editableCols);
            existingWidth += dif;
            result[col + i] += dif;
            editableCols--;
          }
          i++;
        }
      }
    }

    Object.assign(vals, result, auto);
    for (let j = 0; j < vals.length; j++) {
      vals[j] = Math.max(forcedMin, vals[j] || 0);
    }
  };
}


/***/ }),

/***/ 9441:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const debug = __nccwpck_require__(7150);
const utils = __nccwpck_require__(8268);
const tableLayout = __nccwpck_require__(2237);

class Table extends Array {
  constructor(opts) {
    super();

    const options = utils.mergeOptions(opts);
    Object.defineProperty(this, 'options', {
      value: options,
      enumerable: options.debug,
    });

    if (options.debug) {
      switch (typeof options.debug) {
        case 'boolean':
          debug.setDebugLevel(debug.WARN);
          break;
        case 'number':
          debug.setDebugLevel(options.debug);
          break;
        case 'string':
          debug.setDebugLevel(parseInt(options.debug, 10));
          break;
        default:
          debug.setDebugLevel(debug.WARN);
          debug.warn(`Debug option is expected to be boolean, number, or string. Received a ${typeof options.debug}`);
      }
      Object.defineProperty(this, 'messages', {
        get() {
          return debug.debugMessages();
        },
      });
    }
  }

  toString() {
    let array = this;
    let headersPresent = this.options.head && this.options.head.length;
    if (headersPresent) {
      array = [this.options.head];
      if (this.length) {
        array.push.apply(array, this);
      }
    } else {
      this.options.style.head = [];
    }

    let cells = tableLayout.makeTableLayout(array);

    cells.forEach(function (row) {
      row.forEach(function (cell) {
        cell.mergeTableOptions(this.options, cells);
      }, this);
    }, this);

    tableLayout.computeWidths(this.options.colWidths, cells);
    tableLayout.computeHeights(this.options.rowHeights, cells);

    cells.forEach(function (row) {
      row.forEach(function (cell) {
        cell.init(this.options);
      }, this);
    }, this);

    let result = [];

    for (let rowIndex = 0; rowIndex < cells.length; rowIndex++) {
      let row = cells[rowIndex];
      let heightOfRow = this.options.rowHeights[rowIndex];

      if (rowIndex === 0 || !this.options.style.compact || (rowIndex == 1 && headersPresent)) {
        doDraw(row, 'top', result);
      }

      for (let lineNum = 0; lineNum < heightOfRow; lineNum++) {
        doDraw(row, lineNum, result);
      }

      if (rowIndex + 1 == cells.length) {
        doDraw(row, 'bottom', result);
      }
    }

    return result.join('\n');
  }

  get width() {
    let str = this.toString().split('\n');
    return str[0].length;
  }
}

Table.reset = () => debug.reset();

function doDraw(row, lineNum, result) {
  let line = [];
  row.forEach(function (cell) {
    line.push(cell.draw(lineNum));
  });
  let str = line.join('');
  if (str.length) result.push(str);
}

module.exports = Table;


/***/ }),

/***/ 8268:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const stringWidth = __nccwpck_require__(5532);

function codeRegex(capture) {
  return capture ? /\u001b\[((?:\d*;){0,5}\d*)m/g : /\u001b\[(?:\d*;){0,5}\d*m/g;
}

function strlen(str) {
  let code = codeRegex();
  let stripped = ('' + str).replace(code, '');
  let split = stripped.split('\n');
  return split.reduce(function (memo, s) {
    return stringWidth(s) > memo ? stringWidth(s) : memo;
  }, 0);
}

function repeat(str, times) {
  return Array(times + 1).join(str);
}

function pad(str, len, pad, dir) {
  let length = strlen(str);
  if (len + 1 >= length) {
    let padlen = len - length;
    switch (dir) {
      case 'right': {
        str = repeat(pad, padlen) + str;
        break;
      }
      case 'center': {
        let right = Math.ceil(padlen / 2);
        let left = padlen - right;
        str = repeat(pad, left) + str + repeat(pad, right);
        break;
      }
      default: {
        str = str + repeat(pad, padlen);
        break;
      }
    }
  }
  return str;
}

let codeCache = {};

function addToCodeCache(name, on, off) {
  on = '\u001b[' + on + 'm';
  off = '\u001b[' + off + 'm';
  codeCache[on] = { set: name, to: true };
  codeCache[off] = { set: name, to: false };
  codeCache[name] = { on: on, off: off };
}

//https://github.com/Marak/colors.js/blob/master/lib/styles.js
addToCodeCache('bold', 1, 22);
addToCodeCache('italics', 3, 23);
addToCodeCache('underline', 4, 24);
addToCodeCache('inverse', 7, 27);
addToCodeCache('strikethrough', 9, 29);

function updateState(state, controlChars) {
  let controlCode = controlChars[1] ? parseInt(controlChars[1].split(';')[0]) : 0;
  if ((controlCode >= 30 && controlCode <= 39) || (controlCode >= 90 && controlCode <= 97)) {
    state.lastForegroundAdded = controlChars[0];
    return;
  }
  if ((controlCode >= 40 && controlCode <= 49) || (controlCode >= 100 && controlCode <= 107)) {
    state.lastBackgroundAdded = controlChars[0];
    return;
  }
  if (controlCode === 0) {
    for (let i in state) {
      /* istanbul ignore else */
      if (Object.prototype.hasOwnProperty.call(state, i)) {
        delete state[i];
      }
    }
    return;
  }
  let info = codeCache[controlChars[0]];
  if (info) {
    state[info.set] = info.to;
  }
}

function readState(line) {
  let code = codeRegex(true);
  let controlChars = code.exec(line);
  let state = {};
  while (controlChars !== null) {
    updateState(state, controlChars);
    controlChars = code.exec(line);
  }
  return state;
}

function unwindState(state, ret) {
  let lastBackgroundAdded = state.lastBackgroundAdded;
  let lastForegroundAdded = state.lastForegroundAdded;

  delete state.lastBackgroundAdded;
  delete state.lastForegroundAdded;

  Object.keys(state).forEach(function (key) {
    if (state[key]) {
      ret += codeCache[key].off;
    }
  });

  if (lastBackgroundAdded && lastBackgroundAdded != '\u001b[49m') {
    ret += '\u001b[49m';
  }
  if (lastForegroundAdded && lastForegroundAdded != '\u001b[39m') {
    ret += '\u001b[39m';
  }

  return ret;
}

function rewindState(state, ret) {
  let lastBackgroundAdded = state.lastBackgroundAdded;
  let lastForegroundAdded = state.lastForegroundAdded;

  delete state.lastBackgroundAdded;
  delete state.lastForegroundAdded;

  Object.keys(state).forEach(function (key) {
    if (state[key]) {
      ret = codeCache[key].on + ret;
    }
  });

  if (lastBackgroundAdded && lastBackgroundAdded != '\u001b[49m') {
    ret = lastBackgroundAdded + ret;
  }
  if (lastForegroundAdded && lastForegroundAdded != '\u001b[39m') {
    ret = lastForegroundAdded + ret;
  }

  return ret;
}

function truncateWidth(str, desiredLength) {
  if (str.length === strlen(str)) {
    return str.substr(0, desiredLength);
  }

  while (strlen(str) > desiredLength) {
    str = str.slice(0, -1);
  }

  return str;
}

function truncateWidthWithAnsi(str, desiredLength) {
  let code = codeRegex(true);
  let split = str.split(codeRegex());
  let splitIndex = 0;
  let retLen = 0;
  let ret = '';
  let myArray;
  let state = {};

  while (retLen < desiredLength) {
    myArray = code.exec(str);
    let toAdd = split[splitIndex];
    splitIndex++;
    if (retLen + strlen(toAdd) > desiredLength) {
      toAdd = truncateWidth(toAdd, desiredLength - retLen);
    }
    ret += toAdd;
    retLen += strlen(toAdd);

    if (retLen < desiredLength) {
      if (!myArray) {
        break;
      } // full-width chars may cause a whitespace which cannot be filled
      ret += myArray[0];
      updateState(state, myArray);
    }
  }

  return unwindState(state, ret);
}

function truncate(str, desiredLength, truncateChar) {
  truncateChar = truncateChar || '…';
  let lengthOfStr = strlen(str);
  if (lengthOfStr <= desiredLength) {
    return str;
  }
  desiredLength -= strlen(truncateChar);

  let ret = truncateWidthWithAnsi(str, desiredLength);

  ret += truncateChar;

  const hrefTag = '\x1B]8;;\x07';

  if (str.includes(hrefTag) && !ret.includes(hrefTag)) {
    ret += hrefTag;
  }

  return ret;
}

function defaultOptions() {
  return {
    chars: {
      top: '─',
      'top-mid': '┬',
      'top-left': '┌',
      'top-right': '┐',
      bottom: '─',
      'bottom-mid': '┴',
      'bottom-left': '└',
      'bottom-right': '┘',
      left: '│',
      'left-mid': '├',
      mid: '─',
      'mid-mid': '┼',
      right: '│',
      'right-mid': '┤',
      middle: '│',
    },
    truncate: '…',
    colWidths: [],
    rowHeights: [],
    colAligns: [],
    rowAligns: [],
    style: {
      'padding-left': 1,
      'padding-right': 1,
      head: ['red'],
      border: ['grey'],
      compact: false,
    },
    head: [],
  };
}

function mergeOptions(options, defaults) {
  options = options || {};
  defaults = defaults || defaultOptions();
  let ret = Object.assign({}, defaults, options);
  ret.chars = Object.assign({}, defaults.chars, options.chars);
  ret.style = Object.assign({}, defaults.style, options.style);
  return ret;
}

// Wrap on word boundary
function wordWrap(maxLength, input) {
  let lines = [];
  let split = input.split(/(\s+)/g);
  let line = [];
  let lineLength = 0;
  let whitespace;
  for (let i = 0; i < split.length; i += 2) {
    let word = split[i];
    let newLength = lineLength + strlen(word);
    if (lineLength > 0 && whitespace) {
      newLength += whitespace.length;
    }
    if (newLength > maxLength) {
      if (lineLength !== 0) {
        lines.push(line.join(''));
      }
      line = [word];
      lineLength = strlen(word);
    } else {
      line.push(whitespace || '', word);
      lineLength = newLength;
    }
    whitespace = split[i + 1];
  }
  if (lineLength) {
    lines.push(line.join(''));
  }
  return lines;
}

// Wrap text (ignoring word boundaries)
function textWrap(maxLength, input) {
  let lines = [];
  let line = '';
  function pushLine(str, ws) {
    if (line.length && ws) line += ws;
    line += str;
    while (line.length > maxLength) {
      lines.push(line.slice(0, maxLength));
      line = line.slice(maxLength);
    }
  }
  let split = input.split(/(\s+)/g);
  for (let i = 0; i < split.length; i += 2) {
    pushLine(split[i], i && split[i - 1]);
  }
  if (line.length) lines.push(line);
  return lines;
}

function multiLineWordWrap(maxLength, input, wrapOnWordBoundary = true) {
  let output = [];
  input = input.split('\n');
  const handler = wrapOnWordBoundary ? wordWrap : textWrap;
  for (let i = 0; i < input.length; i++) {
    output.push.apply(output, handler(maxLength, input[i]));
  }
  return output;
}

function colorizeLines(input) {
  let state = {};
  let output = [];
  for (let i = 0; i < input.length; i++) {
    let line = rewindState(state, input[i]);
    state = readState(line);
    let temp = Object.assign({}, state);
    output.push(unwindState(temp, line));
  }
  return output;
}

/**
 * Credit: Matheus Sampaio https://github.com/matheussampaio
 */
function hyperlink(url, text) {
  const OSC = '\u001B]';
  const BEL = '\u0007';
  const SEP = ';';

  return [OSC, '8', SEP, SEP, url || text, BEL, text, OSC, '8', SEP, SEP, BEL].join('');
}

module.exports = {
  strlen: strlen,
  repeat: repeat,
  pad: pad,
  truncate: truncate,
  mergeOptions: mergeOptions,
  wordWrap: multiLineWordWrap,
  colorizeLines: colorizeLines,
  hyperlink,
};


/***/ }),

/***/ 872:
/***/ ((module) => {



module.exports = function () {
  // https://mths.be/emoji
  return /\uD83C\uDFF4\uDB40\uDC67\uDB40\uDC62(?:\uDB40\uDC65\uDB40\uDC6E\uDB40\uDC67|\uDB40\uDC73\uDB40\uDC63\uDB40\uDC74|\uDB40\uDC77\uDB40\uDC6C\uDB40\uDC73)\uDB40\uDC7F|\uD83D\uDC68(?:\uD83C\uDFFC\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68\uD83C\uDFFB|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFF\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFB-\uDFFE])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFE\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFB-\uDFFD])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFD\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFB\uDFFC])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\u200D(?:\u2764\uFE0F\u200D(?:\uD83D\uDC8B\u200D)?\uD83D\uDC68|(?:\uD83D[\uDC68\uDC69])\u200D(?:\uD83D\uDC66\u200D\uD83D\uDC66|\uD83D\uDC67\u200D(?:\uD83D[\uDC66\uDC67]))|\uD83D\uDC66\u200D\uD83D\uDC66|\uD83D\uDC67\u200D(?:\uD83D[\uDC66\uDC67])|(?:\uD83D[\uDC68\uDC69])\u200D(?:\uD83D[\uDC66\uDC67])|[\u2695\u2696\u2708]\uFE0F|\uD83D[\uDC66\uDC67]|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|(?:\uD83C\uDFFB\u200D[\u2695\u2696\u2708]|\uD83C\uDFFF\u200D[\u2695\u2696\u2708]|\uD83C\uDFFE\u200D[\u2695\u2696\u2708]|\uD83C\uDFFD\u200D[\u2695\u2696\u2708]|\uD83C\uDFFC\u200D[\u2695\u2696\u2708])\uFE0F|\uD83C\uDFFB\u200D(?:\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C[\uDFFB-\uDFFF])|(?:\uD83E\uDDD1\uD83C\uDFFB\u200D\uD83E\uDD1D\u200D\uD83E\uDDD1|\uD83D\uDC69\uD83C\uDFFC\u200D\uD83E\uDD1D\u200D\uD83D\uDC69)\uD83C\uDFFB|\uD83E\uDDD1(?:\uD83C\uDFFF\u200D\uD83E\uDD1D\u200D\uD83E\uDDD1(?:\uD83C[\uDFFB-\uDFFF])|\u200D\uD83E\uDD1D\u200D\uD83E\uDDD1)|(?:\uD83E\uDDD1\uD83C\uDFFE\u200D\uD83E\uDD1D\u200D\uD83E\uDDD1|\uD83D\uDC69\uD83C\uDFFF\u200D\uD83E\uDD1D\u200D(?:\uD83D[\uDC68\uDC69]))(?:\uD83C[\uDFFB-\uDFFE])|(?:\uD83E\uDDD1\uD83C\uDFFC\u200D\uD83E\uDD1D\u200D\uD83E\uDDD1|\uD83D\uDC69\uD83C\uDFFD\u200D\uD83E\uDD1D\u200D\uD83D\uDC69)(?:\uD83C[\uDFFB\uDFFC])|\uD83D\uDC69(?:\uD83C\uDFFE\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFB-\uDFFD\uDFFF])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFC\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFB\uDFFD-\uDFFF])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFB\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFC-\uDFFF])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFD\u200D(?:\uD83E\uDD1D\u200D\uD83D\uDC68(?:\uD83C[\uDFFB\uDFFC\uDFFE\uDFFF])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\u200D(?:\u2764\uFE0F\u200D(?:\uD83D\uDC8B\u200D(?:\uD83D[\uDC68\uDC69])|\uD83D[\uDC68\uDC69])|\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD])|\uD83C\uDFFF\u200D(?:\uD83C[\uDF3E\uDF73\uDF93\uDFA4\uDFA8\uDFEB\uDFED]|\uD83D[\uDCBB\uDCBC\uDD27\uDD2C\uDE80\uDE92]|\uD83E[\uDDAF-\uDDB3\uDDBC\uDDBD]))|\uD83D\uDC69\u200D\uD83D\uDC69\u200D(?:\uD83D\uDC66\u200D\uD83D\uDC66|\uD83D\uDC67\u200D(?:\uD83D[\uDC66\uDC67]))|(?:\uD83E\uDDD1\uD83C\uDFFD\u200D\uD83E\uDD1D\u200D\uD83E\uDDD1|\uD83D\uDC69\uD83C\uDFFE\u200D\uD83E\uDD1D\u200D\uD83D\uDC69)(?:\uD83C[\uDFFB-\uDFFD])|\uD83D\uDC69\u200D\uD83D\uDC66\u200D\uD83D\uDC66|\uD83D\uDC69\u200D\uD83D\uDC69\u200D(?:\uD83D[\uDC66\uDC67])|(?:\uD83D\uDC41\uFE0F\u200D\uD83D\uDDE8|\uD83D\uDC69(?:\uD83C\uDFFF\u200D[\u2695\u2696\u2708]|\uD83C\uDFFE\u200D[\u2695\u2696\u2708]|\uD83C\uDFFC\u200D[\u2695\u2696\u2708]|\uD83C\uDFFB\u200D[\u2695\u2696\u2708]|\uD83C\uDFFD\u200D[\u2695\u2696\u2708]|\u200D[\u2695\u2696\u2708])|(?:(?:\u26F9|\uD83C[\uDFCB\uDFCC]|\uD83D\uDD75)\uFE0F|\uD83D\uDC6F|\uD83E[\uDD3C\uDDDE\uDDDF])\u200D[\u2640\u2642]|(?:\u26F9|\uD83C[\uDFCB\uDFCC]|\uD83D\uDD75)(?:\uD83C[\uDFFB-\uDFFF])\u200D[\u2640\u2642]|(?:\uD83C[\uDFC3\uDFC4\uDFCA]|\uD83D[\uDC6E\uDC71\uDC73\uDC77\uDC81\uDC82\uDC86\uDC87\uDE45-\uDE47\uDE4B\uDE4D\uDE4E\uDEA3\uDEB4-\uDEB6]|\uD83E[\uDD26\uDD37-\uDD39\uDD3D\uDD3E\uDDB8\uDDB9\uDDCD-\uDDCF\uDDD6-\uDDDD])(?:(?:\uD83C[\uDFFB-\uDFFF])\u200D[\u2640\u2642]|\u200D[\u2640\u2642])|\uD83C\uDFF4\u200D\u2620)\uFE0F|\uD83D\uDC69\u200D\uD83D\uDC67\u200D(?:\uD83D[\uDC66\uDC67])|\uD83C\uDFF3\uFE0F\u200D\uD83C\uDF08|\uD83D\uDC15\u200D\uD83E\uDDBA|\uD83D\uDC69\u200D\uD83D\uDC66|\uD83D\uDC69\u200D\uD83D\uDC67|\uD83C\uDDFD\uD83C\uDDF0|\uD83C\uDDF4\uD83C\uDDF2|\uD83C\uDDF6\uD83C\uDDE6|[#\*0-9]\uFE0F\u20E3|\uD83C\uDDE7(?:\uD83C[\uDDE6\uDDE7\uDDE9-\uDDEF\uDDF1-\uDDF4\uDDF6-\uDDF9\uDDFB\uDDFC\uDDFE\uDDFF])|\uD83C\uDDF9(?:\uD83C[\uDDE6\uDDE8\uDDE9\uDDEB-\uDDED\uDDEF-\uDDF4\uDDF7\uDDF9\uDDFB\uDDFC\uDDFF])|\uD83C\uDDEA(?:\uD83C[\uDDE6\uDDE8\uDDEA\uDDEC\uDDED\uDDF7-\uDDFA])|\uD83E\uDDD1(?:\uD83C[\uDFFB-\uDFFF])|\uD83C\uDDF7(?:\uD83C[\uDDEA\uDDF4\uDDF8\uDDFA\uDDFC])|\uD83D\uDC69(?:\uD83C[\uDFFB-\uDFFF])|\uD83C\uDDF2(?:\uD83C[\uDDE6\uDDE8-\uDDED\uDDF0-\uDDFF])|\uD83C\uDDE6(?:\uD83C[\uDDE8-\uDDEC\uDDEE\uDDF1\uDDF2\uDDF4\uDDF6-\uDDFA\uDDFC\uDDFD\uDDFF])|\uD83C\uDDF0(?:\uD83C[\uDDEA\uDDEC-\uDDEE\uDDF2\uDDF3\uDDF5\uDDF7\uDDFC\uDDFE\uDDFF])|\uD83C\uDDED(?:\uD83C[\uDDF0\uDDF2\uDDF3\uDDF7\uDDF9\uDDFA])|\uD83C\uDDE9(?:\uD83C[\uDDEA\uDDEC\uDDEF\uDDF0\uDDF2\uDDF4\uDDFF])|\uD83C\uDDFE(?:\uD83C[\uDDEA\uDDF9])|\uD83C\uDDEC(?:\uD83C[\uDDE6\uDDE7\uDDE9-\uDDEE\uDDF1-\uDDF3\uDDF5-\uDDFA\uDDFC\uDDFE])|\uD83C\uDDF8(?:\uD83C[\uDDE6-\uDDEA\uDDEC-\uDDF4\uDDF7-\uDDF9\uDDFB\uDDFD-\uDDFF])|\uD83C\uDDEB(?:\uD83C[\uDDEE-\uDDF0\uDDF2\uDDF4\uDDF7])|\uD83C\uDDF5(?:\uD83C[\uDDE6\uDDEA-\uDDED\uDDF0-\uDDF3\uDDF7-\uDDF9\uDDFC\uDDFE])|\uD83C\uDDFB(?:\uD83C[\uDDE6\uDDE8\uDDEA\uDDEC\uDDEE\uDDF3\uDDFA])|\uD83C\uDDF3(?:\uD83C[\uDDE6\uDDE8\uDDEA-\uDDEC\uDDEE\uDDF1\uDDF4\uDDF5\uDDF7\uDDFA\uDDFF])|\uD83C\uDDE8(?:\uD83C[\uDDE6\uDDE8\uDDE9\uDDEB-\uDDEE\uDDF0-\uDDF5\uDDF7\uDDFA-\uDDFF])|\uD83C\uDDF1(?:\uD83C[\uDDE6-\uDDE8\uDDEE\uDDF0\uDDF7-\uDDFB\uDDFE])|\uD83C\uDDFF(?:\uD83C[\uDDE6\uDDF2\uDDFC])|\uD83C\uDDFC(?:\uD83C[\uDDEB\uDDF8])|\uD83C\uDDFA(?:\uD83C[\uDDE6\uDDEC\uDDF2\uDDF3\uDDF8\uDDFE\uDDFF])|\uD83C\uDDEE(?:\uD83C[\uDDE8-\uDDEA\uDDF1-\uDDF4\uDDF6-\uDDF9])|\uD83C\uDDEF(?:\uD83C[\uDDEA\uDDF2\uDDF4\uDDF5])|(?:\uD83C[\uDFC3\uDFC4\uDFCA]|\uD83D[\uDC6E\uDC71\uDC73\uDC77\uDC81\uDC82\uDC86\uDC87\uDE45-\uDE47\uDE4B\uDE4D\uDE4E\uDEA3\uDEB4-\uDEB6]|\uD83E[\uDD26\uDD37-\uDD39\uDD3D\uDD3E\uDDB8\uDDB9\uDDCD-\uDDCF\uDDD6-\uDDDD])(?:\uD83C[\uDFFB-\uDFFF])|(?:\u26F9|\uD83C[\uDFCB\uDFCC]|\uD83D\uDD75)(?:\uD83C[\uDFFB-\uDFFF])|(?:[\u261D\u270A-\u270D]|\uD83C[\uDF85\uDFC2\uDFC7]|\uD83D[\uDC42\uDC43\uDC46-\uDC50\uDC66\uDC67\uDC6B-\uDC6D\uDC70\uDC72\uDC74-\uDC76\uDC78\uDC7C\uDC83\uDC85\uDCAA\uDD74\uDD7A\uDD90\uDD95\uDD96\uDE4C\uDE4F\uDEC0\uDECC]|\uD83E[\uDD0F\uDD18-\uDD1C\uDD1E\uDD1F\uDD30-\uDD36\uDDB5\uDDB6\uDDBB\uDDD2-\uDDD5])(?:\uD83C[\uDFFB-\uDFFF])|(?:[\u231A\u231B\u23E9-\u23EC\u23F0\u23F3\u25FD\u25FE\u2614\u2615\u2648-\u2653\u267F\u2693\u26A1\u26AA\u26AB\u26BD\u26BE\u26C4\u26C5\u26CE\u26D4\u26EA\u26F2\u26F3\u26F5\u26FA\u26FD\u2705\u270A\u270B\u2728\u274C\u274E\u2753-\u2755\u2757\u2795-\u2797\u27B0\u27BF\u2B1B\u2B1C\u2B50\u2B55]|\uD83C[\uDC04\uDCCF\uDD8E\uDD91-\uDD9A\uDDE6-\uDDFF\uDE01\uDE1A\uDE2F\uDE32-\uDE36\uDE38-\uDE3A\uDE50\uDE51\uDF00-\uDF20\uDF2D-\uDF35\uDF37-\uDF7C\uDF7E-\uDF93\uDFA0-\uDFCA\uDFCF-\uDFD3\uDFE0-\uDFF0\uDFF4\uDFF8-\uDFFF]|\uD83D[\uDC00-\uDC3E\uDC40\uDC42-\uDCFC\uDCFF-\uDD3D\uDD4B-\uDD4E\uDD50-\uDD67\uDD7A\uDD95\uDD96\uDDA4\uDDFB-\uDE4F\uDE80-\uDEC5\uDECC\uDED0-\uDED2\uDED5\uDEEB\uDEEC\uDEF4-\uDEFA\uDFE0-\uDFEB]|\uD83E[\uDD0D-\uDD3A\uDD3C-\uDD45\uDD47-\uDD71\uDD73-\uDD76\uDD7A-\uDDA2\uDDA5-\uDDAA\uDDAE-\uDDCA\uDDCD-\uDDFF\uDE70-\uDE73\uDE78-\uDE7A\uDE80-\uDE82\uDE90-\uDE95])|(?:[#\*0-9\xA9\xAE\u203C\u2049\u2122\u2139\u2194-\u2199\u21A9\u21AA\u231A\u231B\u2328\u23CF\u23E9-\u23F3\u23F8-\u23FA\u24C2\u25AA\u25AB\u25B6\u25C0\u25FB-\u25FE\u2600-\u2604\u260E\u2611\u2614\u2615\u2618\u261D\u2620\u2622\u2623\u2626\u262A\u262E\u262F\u2638-\u263A\u2640\u2642\u2648-\u2653\u265F\u2660\u2663\u2665\u2666\u2668\u267B\u267E\u267F\u2692-\u2697\u2699\u269B\u269C\u26A0\u26A1\u26AA\u26AB\u26B0\u26B1\u26BD\u26BE\u26C4\u26C5\u26C8\u26CE\u26CF\u26D1\u26D3\u26D4\u26E9\u26EA\u26F0-\u26F5\u26F7-\u26FA\u26FD\u2702\u2705\u2708-\u270D\u270F\u2712\u2714\u2716\u271D\u2721\u2728\u2733\u2734\u2744\u2747\u274C\u274E\u2753-\u2755\u2757\u2763\u2764\u2795-\u2797\u27A1\u27B0\u27BF\u2934\u2935\u2B05-\u2B07\u2B1B\u2B1C\u2B50\u2B55\u3030\u303D\u3297\u3299]|\uD83C[\uDC04\uDCCF\uDD70\uDD71\uDD7E\uDD7F\uDD8E\uDD91-\uDD9A\uDDE6-\uDDFF\uDE01\uDE02\uDE1A\uDE2F\uDE32-\uDE3A\uDE50\uDE51\uDF00-\uDF21\uDF24-\uDF93\uDF96\uDF97\uDF99-\uDF9B\uDF9E-\uDFF0\uDFF3-\uDFF5\uDFF7-\uDFFF]|\uD83D[\uDC00-\uDCFD\uDCFF-\uDD3D\uDD49-\uDD4E\uDD50-\uDD67\uDD6F\uDD70\uDD73-\uDD7A\uDD87\uDD8A-\uDD8D\uDD90\uDD95\uDD96\uDDA4\uDDA5\uDDA8\uDDB1\uDDB2\uDDBC\uDDC2-\uDDC4\uDDD1-\uDDD3\uDDDC-\uDDDE\uDDE1\uDDE3\uDDE8\uDDEF\uDDF3\uDDFA-\uDE4F\uDE80-\uDEC5\uDECB-\uDED2\uDED5\uDEE0-\uDEE5\uDEE9\uDEEB\uDEEC\uDEF0\uDEF3-\uDEFA\uDFE0-\uDFEB]|\uD83E[\uDD0D-\uDD3A\uDD3C-\uDD45\uDD47-\uDD71\uDD73-\uDD76\uDD7A-\uDDA2\uDDA5-\uDDAA\uDDAE-\uDDCA\uDDCD-\uDDFF\uDE70-\uDE73\uDE78-\uDE7A\uDE80-\uDE82\uDE90-\uDE95])\uFE0F|(?:[\u261D\u26F9\u270A-\u270D]|\uD83C[\uDF85\uDFC2-\uDFC4\uDFC7\uDFCA-\uDFCC]|\uD83D[\uDC42\uDC43\uDC46-\uDC50\uDC66-\uDC78\uDC7C\uDC81-\uDC83\uDC85-\uDC87\uDC8F\uDC91\uDCAA\uDD74\uDD75\uDD7A\uDD90\uDD95\uDD96\uDE45-\uDE47\uDE4B-\uDE4F\uDEA3\uDEB4-\uDEB6\uDEC0\uDECC]|\uD83E[\uDD0F\uDD18-\uDD1F\uDD26\uDD30-\uDD39\uDD3C-\uDD3E\uDDB5\uDDB6\uDDB8\uDDB9\uDDBB\uDDCD-\uDDCF\uDDD1-\uDDDD])/g;
};


/***/ }),

/***/ 4519:
/***/ ((module) => {

/* eslint-disable yoda */


const isFullwidthCodePoint = codePoint => {
	if (Number.isNaN(codePoint)) {
		return false;
	}

	// Code points are derived from:
	// http://www.unix.org/Public/UNIDATA/EastAsianWidth.txt
	if (
		codePoint >= 0x1100 && (
			codePoint <= 0x115F || // Hangul Jamo
			codePoint === 0x2329 || // LEFT-POINTING ANGLE BRACKET
			codePoint === 0x232A || // RIGHT-POINTING ANGLE BRACKET
			// CJK Radicals Supplement .. Enclosed CJK Letters and Months
			(0x2E80 <= codePoint && codePoint <= 0x3247 && codePoint !== 0x303F) ||
			// Enclosed CJK Letters and Months .. CJK Unified Ideographs Extension A
			(0x3250 <= codePoint && codePoint <= 0x4DBF) ||
			// CJK Unified Ideographs .. Yi Radicals
			(0x4E00 <= codePoint && codePoint <= 0xA4C6) ||
			// Hangul Jamo Extended-A
			(0xA960 <= codePoint && codePoint <= 0xA97C) ||
			// Hangul Syllables
			(0xAC00 <= codePoint && codePoint <= 0xD7A3) ||
			// CJK Compatibility Ideographs
			(0xF900 <= codePoint && codePoint <= 0xFAFF) ||
			// Vertical Forms
			(0xFE10 <= codePoint && codePoint <= 0xFE19) ||
			// CJK Compatibility Forms .. Small Form Variants
			(0xFE30 <= codePoint && codePoint <= 0xFE6B) ||
			// Halfwidth and Fullwidth Forms
			(0xFF01 <= codePoint && codePoint <= 0xFF60) ||
			(0xFFE0 <= codePoint && codePoint <= 0xFFE6) ||
			// Kana Supplement
			(0x1B000 <= codePoint && codePoint <= 0x1B001) ||
			// Enclosed Ideographic Supplement
			(0x1F200 <= codePoint && codePoint <= 0x1F251) ||
			// CJK Unified Ideographs Extension B .. Tertiary Ideographic Plane
			(0x20000 <= codePoint && codePoint <= 0x3FFFD)
		)
	) {
		return true;
	}

	return false;
};

module.exports = isFullwidthCodePoint;
module.exports["default"] = isFullwidthCodePoint;


/***/ }),

/***/ 7666:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

/*! node-domexception. MIT License. Jimmy Wärting <https://jimmy.warting.se/opensource> */

if (!globalThis.DOMException) {
  try {
    const { MessageChannel } = __nccwpck_require__(8167),
    port = new MessageChannel().port1,
    ab = new ArrayBuffer()
    port.postMessage(ab, [ab, ab])
  } catch (err) {
    err.constructor.name === 'DOMException' && (
      globalThis.DOMException = err.constructor
    )
  }
}

module.exports = globalThis.DOMException


/***/ }),

/***/ 7336:
/***/ ((module) => {

let p = process || {}, argv = p.argv || [], env = p.env || {}
let isColorSupported =
	!(!!env.NO_COLOR || argv.includes("--no-color")) &&
	(!!env.FORCE_COLOR || argv.includes("--color") || p.platform === "win32" || ((p.stdout || {}).isTTY && env.TERM !== "dumb") || !!env.CI)

let formatter = (open, close, replace = open) =>
	input => {
		let string = "" + input, index = string.indexOf(close, open.length)
		return ~index ? open + replaceClose(string, close, replace, index) + close : open + string + close
	}

let replaceClose = (string, close, replace, index) => {
	let result = "", cursor = 0
	do {
		result += string.substring(cursor, index) + replace
		cursor = index + close.length
		index = string.indexOf(close, cursor)
	} while (~index)
	return result + string.substring(cursor)
}

let createColors = (enabled = isColorSupported) => {
	let f = enabled ? formatter : () => String
	return {
		isColorSupported: enabled,
		reset: f("\x1b[0m", "\x1b[0m"),
		bold: f("\x1b[1m", "\x1b[22m", "\x1b[22m\x1b[1m"),
		dim: f("\x1b[2m", "\x1b[22m", "\x1b[22m\x1b[2m"),
		italic: f("\x1b[3m", "\x1b[23m"),
		underline: f("\x1b[4m", "\x1b[24m"),
		inverse: f("\x1b[7m", "\x1b[27m"),
		hidden: f("\x1b[8m", "\x1b[28m"),
		strikethrough: f("\x1b[9m", "\x1b[29m"),

		black: f("\x1b[30m", "\x1b[39m"),
		red: f("\x1b[31m", "\x1b[39m"),
		green: f("\x1b[32m", "\x1b[39m"),
		yellow: f("\x1b[33m", "\x1b[39m"),
		blue: f("\x1b[34m", "\x1b[39m"),
		magenta: f("\x1b[35m", "\x1b[39m"),
		cyan: f("\x1b[36m", "\x1b[39m"),
		white: f("\x1b[37m", "\x1b[39m"),
		gray: f("\x1b[90m", "\x1b[39m"),

		bgBlack: f("\x1b[40m", "\x1b[49m"),
		bgRed: f("\x1b[41m", "\x1b[49m"),
		bgGreen: f("\x1b[42m", "\x1b[49m"),
		bgYellow: f("\x1b[43m", "\x1b[49m"),
		bgBlue: f("\x1b[44m", "\x1b[49m"),
		bgMagenta: f("\x1b[45m", "\x1b[49m"),
		bgCyan: f("\x1b[46m", "\x1b[49m"),
		bgWhite: f("\x1b[47m", "\x1b[49m"),

		blackBright: f("\x1b[90m", "\x1b[39m"),
		redBright: f("\x1b[91m", "\x1b[39m"),
		greenBright: f("\x1b[92m", "\x1b[39m"),
		yellowBright: f("\x1b[93m", "\x1b[39m"),
		blueBright: f("\x1b[94m", "\x1b[39m"),
		magentaBright: f("\x1b[95m", "\x1b[39m"),
		cyanBright: f("\x1b[96m", "\x1b[39m"),
		whiteBright: f("\x1b[97m", "\x1b[39m"),

		bgBlackBright: f("\x1b[100m", "\x1b[49m"),
		bgRedBright: f("\x1b[101m", "\x1b[49m"),
		bgGreenBright: f("\x1b[102m", "\x1b[49m"),
		bgYellowBright: f("\x1b[103m", "\x1b[49m"),
		bgBlueBright: f("\x1b[104m", "\x1b[49m"),
		bgMagentaBright: f("\x1b[105m", "\x1b[49m"),
		bgCyanBright: f("\x1b[106m", "\x1b[49m"),
		bgWhiteBright: f("\x1b[107m", "\x1b[49m"),
	}
}

module.exports = createColors()
module.exports.createColors = createColors


/***/ }),

/***/ 4455:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Ah: () => (/* binding */ BEING_CANCELLED),
/* harmony export */   Bd: () => (/* binding */ evaluationPageSchema),
/* harmony export */   FD: () => (/* binding */ ID_MIN),
/* harmony export */   H4: () => (/* binding */ MAX_PAGE_SIZE),
/* harmony export */   Ji: () => (/* binding */ ID_MAX),
/* harmony export */   MF: () => (/* binding */ evaluationSchema),
/* harmony export */   Ri: () => (/* binding */ IN_FLIGHT),
/* harmony export */   YT: () => (/* binding */ resultPageSchema),
/* harmony export */   co: () => (/* binding */ EVALUATION_STATUSES),
/* harmony export */   eA: () => (/* binding */ checkShape),
/* harmony export */   ut: () => (/* binding */ errorBodySchema),
/* harmony export */   yD: () => (/* binding */ evaluatorPageSchema)
/* harmony export */ });
/* unused harmony exports GRADES, ROW_VALUE_DEPTH, withinDepth, resultSchema, TITLE_MAX, evaluatorSchema */
/* harmony import */ var valibot__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(7934);
/**
 * The shapes of Adaline v2 answers, checked before use so that a wrong answer ends with an error
 * that names the endpoint and the field instead of a verdict computed from garbage.
 */
// valibot: the checks zod made, in a small fraction of its bundle and start-up (every run loads this)

const EVALUATION_STATUSES = [
    'queued',
    'running',
    'completed',
    'failed',
    'cancelled',
    'cancelling'
];
/** Statuses in which an evaluation still costs money and can be cancelled. */
const IN_FLIGHT = ['queued', 'running'];
/** Statuses of an evaluation someone has already cancelled. */
const BEING_CANCELLED = ['cancelling', 'cancelled'];
/** Every Adaline ID is a string of 20 to 80 characters. */
const ID_MIN = 20;
const ID_MAX = 80;
const MAX_PAGE_SIZE = 200;
const id = valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minLength */ .BpQ(ID_MIN), valibot__WEBPACK_IMPORTED_MODULE_0__/* .maxLength */ .Ru6(ID_MAX));
// JSON.parse turns 1e400 into Infinity: a figure must be finite, a count a safe integer
const count = valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .safeInteger */ .Y2b(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minValue */ .Wwf(0));
const amount = valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .finite */ .E2x(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minValue */ .Wwf(0));
const time = valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(amount);
// Objects that drop what they do not name: a field Adaline adds later must not break the action,
// and must not reach anything that walks or prints an answer (an unknown field nested 100,000
// deep overflows the stack of every recursive walk, JSON.stringify's included).
const evaluationSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
    runId: id,
    evaluatorId: id,
    status: valibot__WEBPACK_IMPORTED_MODULE_0__/* .picklist */ .KIO(EVALUATION_STATUSES),
    progress: valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
        totalRows: count,
        completedRows: count,
        failedRows: count,
        percent: valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .finite */ .E2x(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minValue */ .Wwf(0), valibot__WEBPACK_IMPORTED_MODULE_0__/* .maxValue */ .cGV(100))
    }),
    metrics: valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
        passRuns: count,
        failRuns: count,
        unknownRuns: count,
        totalCost: amount,
        totalLatency: amount,
        totalTokenCount: count
    }),
    timeline: valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
        submittedAt: amount,
        startedAt: time,
        finishedAt: time
    }),
    datasetId: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(id)
});
const paginationSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
    limit: valibot__WEBPACK_IMPORTED_MODULE_0__/* .optional */ .lqM(count),
    returned: valibot__WEBPACK_IMPORTED_MODULE_0__/* .optional */ .lqM(count),
    hasMore: valibot__WEBPACK_IMPORTED_MODULE_0__/* .boolean */ .zMY(),
    nextCursor: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minLength */ .BpQ(1)))
});
const evaluationPageSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
    evaluations: valibot__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(evaluationSchema),
    pagination: paginationSchema
});
/** Adaline's error bodies: `{error:{code,message}}`, or `{error:"text"}` on older endpoints. */
const errorBodySchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
    error: valibot__WEBPACK_IMPORTED_MODULE_0__/* .union */ .KCZ([
        valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP(),
        valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({ code: valibot__WEBPACK_IMPORTED_MODULE_0__/* .optional */ .lqM(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP()), message: valibot__WEBPACK_IMPORTED_MODULE_0__/* .optional */ .lqM(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP()) })
    ])
});
/**
 * The value, if it has the shape; otherwise its first problem named by its path under `prefix`:
 * "evaluations[3].metrics.passRuns: Invalid type: Expected number but received "7"".
 */
function checkShape(shape, value, prefix) {
    const result = valibot__WEBPACK_IMPORTED_MODULE_0__/* .safeParse */ .xLC(shape, value);
    if (result.success)
        return { ok: true, value: result.output };
    const issue = result.issues[0];
    const path = (issue.path ?? []).reduce((text, { key }) => typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key), prefix);
    return { ok: false, problem: `${path}: ${issue.message}` };
}
const GRADES = ['pass', 'fail', 'unknown'];
/** One row's result in an evaluation: what the failing-rows report shows. */
const text = valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minLength */ .BpQ(1));
/**
 * A row's values are the user's data, of any shape: kept to ROW_VALUE_DEPTH levels, deeper ones
 * replaced by a marker, so that no walk or JSON.stringify of them can overflow the stack.
 */
const ROW_VALUE_DEPTH = 8;
const rowValue = valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .unknown */ .L5J(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .transform */ .pdi(value => withinDepth(value, ROW_VALUE_DEPTH)));
/** The value with what lies deeper than `depth` levels replaced by "…". Pure. */
function withinDepth(value, depth) {
    if (value === null || typeof value !== 'object')
        return value;
    if (depth <= 0)
        return '…';
    if (Array.isArray(value))
        return value.map(item => withinDepth(item, depth - 1));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withinDepth(item, depth - 1)]));
}
const resultSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
    id: text,
    rowId: text,
    grade: valibot__WEBPACK_IMPORTED_MODULE_0__/* .picklist */ .KIO(GRADES),
    score: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .finite */ .E2x())),
    reason: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP()),
    cost: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(amount),
    latency: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(amount),
    tokenCount: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(count),
    createdAt: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(amount),
    row: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({ values: valibot__WEBPACK_IMPORTED_MODULE_0__/* .record */ .g1P(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP(), rowValue) }))
});
const resultPageSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .object */ .Ikc({
    results: valibot__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(resultSchema),
    pagination: paginationSchema
});
/** Evaluator titles are 1..200 characters (Adaline v2). */
const TITLE_MAX = 200;
/**
 * One evaluator of a prompt, from `GET /prompts/{promptId}/evaluators`: what gives a report its
 * names. Only the ID and title are needed, so the other fields may be absent or null.
 */
const evaluatorSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .looseObject */ ._H3({
    id,
    promptId: id,
    title: valibot__WEBPACK_IMPORTED_MODULE_0__/* .pipe */ .FsL(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP(), valibot__WEBPACK_IMPORTED_MODULE_0__/* .minLength */ .BpQ(1), valibot__WEBPACK_IMPORTED_MODULE_0__/* .maxLength */ .Ru6(TITLE_MAX)),
    datasetId: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(id),
    status: valibot__WEBPACK_IMPORTED_MODULE_0__/* .nullish */ .cl6(valibot__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP()),
    createdAt: time,
    updatedAt: time
});
const evaluatorPageSchema = valibot__WEBPACK_IMPORTED_MODULE_0__/* .looseObject */ ._H3({
    evaluators: valibot__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(evaluatorSchema),
    pagination: paginationSchema
});


/***/ }),

/***/ 2827:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _cli_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(418);
/** The `adaline-evals` command's entry point (dist/cli/index.js, bundled by ncc). */

process.exitCode = await (0,_cli_js__WEBPACK_IMPORTED_MODULE_0__/* .main */ .iW)(process.argv.slice(2), process.env, text => process.stdout.write(text), text => process.stderr.write(text), { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns });

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 418:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  iW: () => (/* binding */ main)
});

// UNUSED EXPORTS: EXIT, reportWidth, useColor

;// CONCATENATED MODULE: external "node:os"
const external_node_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");
// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __nccwpck_require__(7067);
;// CONCATENATED MODULE: external "node:https"
const external_node_https_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");
// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __nccwpck_require__(8522);
var external_node_zlib_default = /*#__PURE__*/__nccwpck_require__.n(external_node_zlib_);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __nccwpck_require__(7075);
// EXTERNAL MODULE: external "node:buffer"
var external_node_buffer_ = __nccwpck_require__(4573);
;// CONCATENATED MODULE: ./node_modules/data-uri-to-buffer/dist/index.js
/**
 * Returns a `Buffer` instance from the given data URI `uri`.
 *
 * @param {String} uri Data URI to turn into a Buffer instance
 * @returns {Buffer} Buffer instance from Data URI
 * @api public
 */
function dataUriToBuffer(uri) {
    if (!/^data:/i.test(uri)) {
        throw new TypeError('`uri` does not appear to be a Data URI (must begin with "data:")');
    }
    // strip newlines
    uri = uri.replace(/\r?\n/g, '');
    // split the URI up into the "metadata" and the "data" portions
    const firstComma = uri.indexOf(',');
    if (firstComma === -1 || firstComma <= 4) {
        throw new TypeError('malformed data: URI');
    }
    // remove the "data:" scheme and parse the metadata
    const meta = uri.substring(5, firstComma).split(';');
    let charset = '';
    let base64 = false;
    const type = meta[0] || 'text/plain';
    let typeFull = type;
    for (let i = 1; i < meta.length; i++) {
        if (meta[i] === 'base64') {
            base64 = true;
        }
        else if (meta[i]) {
            typeFull += `;${meta[i]}`;
            if (meta[i].indexOf('charset=') === 0) {
                charset = meta[i].substring(8);
            }
        }
    }
    // defaults to US-ASCII only if type is not provided
    if (!meta[0] && !charset.length) {
        typeFull += ';charset=US-ASCII';
        charset = 'US-ASCII';
    }
    // get the encoded data portion and decode URI-encoded chars
    const encoding = base64 ? 'base64' : 'ascii';
    const data = unescape(uri.substring(firstComma + 1));
    const buffer = Buffer.from(data, encoding);
    // set `.type` and `.typeFull` properties to MIME type
    buffer.type = type;
    buffer.typeFull = typeFull;
    // set the `.charset` property
    buffer.charset = charset;
    return buffer;
}
/* harmony default export */ const dist = (dataUriToBuffer);
//# sourceMappingURL=index.js.map
// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __nccwpck_require__(7975);
// EXTERNAL MODULE: ./node_modules/fetch-blob/index.js
var fetch_blob = __nccwpck_require__(6327);
// EXTERNAL MODULE: ./node_modules/formdata-polyfill/esm.min.js
var esm_min = __nccwpck_require__(3018);
;// CONCATENATED MODULE: ./node_modules/node-fetch/src/errors/base.js
class FetchBaseError extends Error {
	constructor(message, type) {
		super(message);
		// Hide custom error implementation details from end-users
		Error.captureStackTrace(this, this.constructor);

		this.type = type;
	}

	get name() {
		return this.constructor.name;
	}

	get [Symbol.toStringTag]() {
		return this.constructor.name;
	}
}

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/errors/fetch-error.js



/**
 * @typedef {{ address?: string, code: string, dest?: string, errno: number, info?: object, message: string, path?: string, port?: number, syscall: string}} SystemError
*/

/**
 * FetchError interface for operational errors
 */
class FetchError extends FetchBaseError {
	/**
	 * @param  {string} message -      Error message for human
	 * @param  {string} [type] -        Error type for machine
	 * @param  {SystemError} [systemError] - For Node.js system error
	 */
	constructor(message, type, systemError) {
		super(message, type);
		// When err.type is `system`, err.erroredSysCall contains system error and err.code contains system error code
		if (systemError) {
			// eslint-disable-next-line no-multi-assign
			this.code = this.errno = systemError.code;
			this.erroredSysCall = systemError.syscall;
		}
	}
}

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/utils/is.js
/**
 * Is.js
 *
 * Object type checks.
 */

const NAME = Symbol.toStringTag;

/**
 * Check if `obj` is a URLSearchParams object
 * ref: https://github.com/node-fetch/node-fetch/issues/296#issuecomment-307598143
 * @param {*} object - Object to check for
 * @return {boolean}
 */
const isURLSearchParameters = object => {
	return (
		typeof object === 'object' &&
		typeof object.append === 'function' &&
		typeof object.delete === 'function' &&
		typeof object.get === 'function' &&
		typeof object.getAll === 'function' &&
		typeof object.has === 'function' &&
		typeof object.set === 'function' &&
		typeof object.sort === 'function' &&
		object[NAME] === 'URLSearchParams'
	);
};

/**
 * Check if `object` is a W3C `Blob` object (which `File` inherits from)
 * @param {*} object - Object to check for
 * @return {boolean}
 */
const isBlob = object => {
	return (
		object &&
		typeof object === 'object' &&
		typeof object.arrayBuffer === 'function' &&
		typeof object.type === 'string' &&
		typeof object.stream === 'function' &&
		typeof object.constructor === 'function' &&
		/^(Blob|File)$/.test(object[NAME])
	);
};

/**
 * Check if `obj` is an instance of AbortSignal.
 * @param {*} object - Object to check for
 * @return {boolean}
 */
const isAbortSignal = object => {
	return (
		typeof object === 'object' && (
			object[NAME] === 'AbortSignal' ||
			object[NAME] === 'EventTarget'
		)
	);
};

/**
 * isDomainOrSubdomain reports whether sub is a subdomain (or exact match) of
 * the parent domain.
 *
 * Both domains must already be in canonical form.
 * @param {string|URL} original
 * @param {string|URL} destination
 */
const isDomainOrSubdomain = (destination, original) => {
	const orig = new URL(original).hostname;
	const dest = new URL(destination).hostname;

	return orig === dest || orig.endsWith(`.${dest}`);
};

/**
 * isSameProtocol reports whether the two provided URLs use the same protocol.
 *
 * Both domains must already be in canonical form.
 * @param {string|URL} original
 * @param {string|URL} destination
 */
const isSameProtocol = (destination, original) => {
	const orig = new URL(original).protocol;
	const dest = new URL(destination).protocol;

	return orig === dest;
};

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/body.js

/**
 * Body.js
 *
 * Body interface provides common methods for Request and Response
 */












const pipeline = (0,external_node_util_.promisify)(external_node_stream_.pipeline);
const INTERNALS = Symbol('Body internals');

/**
 * Body mixin
 *
 * Ref: https://fetch.spec.whatwg.org/#body
 *
 * @param   Stream  body  Readable stream
 * @param   Object  opts  Response options
 * @return  Void
 */
class Body {
	constructor(body, {
		size = 0
	} = {}) {
		let boundary = null;

		if (body === null) {
			// Body is undefined or null
			body = null;
		} else if (isURLSearchParameters(body)) {
			// Body is a URLSearchParams
			body = external_node_buffer_.Buffer.from(body.toString());
		} else if (isBlob(body)) {
			// Body is blob
		} else if (external_node_buffer_.Buffer.isBuffer(body)) {
			// Body is Buffer
		} else if (external_node_util_.types.isAnyArrayBuffer(body)) {
			// Body is ArrayBuffer
			body = external_node_buffer_.Buffer.from(body);
		} else if (ArrayBuffer.isView(body)) {
			// Body is ArrayBufferView
			body = external_node_buffer_.Buffer.from(body.buffer, body.byteOffset, body.byteLength);
		} else if (body instanceof external_node_stream_) {
			// Body is stream
		} else if (body instanceof esm_min/* FormData */.fS) {
			// Body is FormData
			body = (0,esm_min/* formDataToBlob */.$n)(body);
			boundary = body.type.split('=')[1];
		} else {
			// None of the above
			// coerce to string then buffer
			body = external_node_buffer_.Buffer.from(String(body));
		}

		let stream = body;

		if (external_node_buffer_.Buffer.isBuffer(body)) {
			stream = external_node_stream_.Readable.from(body);
		} else if (isBlob(body)) {
			stream = external_node_stream_.Readable.from(body.stream());
		}

		this[INTERNALS] = {
			body,
			stream,
			boundary,
			disturbed: false,
			error: null
		};
		this.size = size;

		if (body instanceof external_node_stream_) {
			body.on('error', error_ => {
				const error = error_ instanceof FetchBaseError ?
					error_ :
					new FetchError(`Invalid response body while trying to fetch ${this.url}: ${error_.message}`, 'system', error_);
				this[INTERNALS].error = error;
			});
		}
	}

	get body() {
		return this[INTERNALS].stream;
	}

	get bodyUsed() {
		return this[INTERNALS].disturbed;
	}

	/**
	 * Decode response as ArrayBuffer
	 *
	 * @return  Promise
	 */
	async arrayBuffer() {
		const {buffer, byteOffset, byteLength} = await consumeBody(this);
		return buffer.slice(byteOffset, byteOffset + byteLength);
	}

	async formData() {
		const ct = this.headers.get('content-type');

		if (ct.startsWith('application/x-www-form-urlencoded')) {
			const formData = new esm_min/* FormData */.fS();
			const parameters = new URLSearchParams(await this.text());

			for (const [name, value] of parameters) {
				formData.append(name, value);
			}

			return formData;
		}

		const {toFormData} = await __nccwpck_require__.e(/* import() */ 101).then(__nccwpck_require__.bind(__nccwpck_require__, 9101));
		return toFormData(this.body, ct);
	}

	/**
	 * Return raw response as Blob
	 *
	 * @return Promise
	 */
	async blob() {
		const ct = (this.headers && this.headers.get('content-type')) || (this[INTERNALS].body && this[INTERNALS].body.type) || '';
		const buf = await this.arrayBuffer();

		return new fetch_blob/* default */.A([buf], {
			type: ct
		});
	}

	/**
	 * Decode response as json
	 *
	 * @return  Promise
	 */
	async json() {
		const text = await this.text();
		return JSON.parse(text);
	}

	/**
	 * Decode response as text
	 *
	 * @return  Promise
	 */
	async text() {
		const buffer = await consumeBody(this);
		return new TextDecoder().decode(buffer);
	}

	/**
	 * Decode response as buffer (non-spec api)
	 *
	 * @return  Promise
	 */
	buffer() {
		return consumeBody(this);
	}
}

Body.prototype.buffer = (0,external_node_util_.deprecate)(Body.prototype.buffer, 'Please use \'response.arrayBuffer()\' instead of \'response.buffer()\'', 'node-fetch#buffer');

// In browsers, all properties are enumerable.
Object.defineProperties(Body.prototype, {
	body: {enumerable: true},
	bodyUsed: {enumerable: true},
	arrayBuffer: {enumerable: true},
	blob: {enumerable: true},
	json: {enumerable: true},
	text: {enumerable: true},
	data: {get: (0,external_node_util_.deprecate)(() => {},
		'data doesn\'t exist, use json(), text(), arrayBuffer(), or body instead',
		'https://github.com/node-fetch/node-fetch/issues/1000 (response)')}
});

/**
 * Consume and convert an entire Body to a Buffer.
 *
 * Ref: https://fetch.spec.whatwg.org/#concept-body-consume-body
 *
 * @return Promise
 */
async function consumeBody(data) {
	if (data[INTERNALS].disturbed) {
		throw new TypeError(`body used already for: ${data.url}`);
	}

	data[INTERNALS].disturbed = true;

	if (data[INTERNALS].error) {
		throw data[INTERNALS].error;
	}

	const {body} = data;

	// Body is null
	if (body === null) {
		return external_node_buffer_.Buffer.alloc(0);
	}

	/* c8 ignore next 3 */
	if (!(body instanceof external_node_stream_)) {
		return external_node_buffer_.Buffer.alloc(0);
	}

	// Body is stream
	// get ready to actually consume the body
	const accum = [];
	let accumBytes = 0;

	try {
		for await (const chunk of body) {
			if (data.size > 0 && accumBytes + chunk.length > data.size) {
				const error = new FetchError(`content size at ${data.url} over limit: ${data.size}`, 'max-size');
				body.destroy(error);
				throw error;
			}

			accumBytes += chunk.length;
			accum.push(chunk);
		}
	} catch (error) {
		const error_ = error instanceof FetchBaseError ? error : new FetchError(`Invalid response body while trying to fetch ${data.url}: ${error.message}`, 'system', error);
		throw error_;
	}

	if (body.readableEnded === true || body._readableState.ended === true) {
		try {
			if (accum.every(c => typeof c === 'string')) {
				return external_node_buffer_.Buffer.from(accum.join(''));
			}

			return external_node_buffer_.Buffer.concat(accum, accumBytes);
		} catch (error) {
			throw new FetchError(`Could not create Buffer from response body for ${data.url}: ${error.message}`, 'system', error);
		}
	} else {
		throw new FetchError(`Premature close of server response while trying to fetch ${data.url}`);
	}
}

/**
 * Clone body given Res/Req instance
 *
 * @param   Mixed   instance       Response or Request instance
 * @param   String  highWaterMark  highWaterMark for both PassThrough body streams
 * @return  Mixed
 */
const clone = (instance, highWaterMark) => {
	let p1;
	let p2;
	let {body} = instance[INTERNALS];

	// Don't allow cloning a used body
	if (instance.bodyUsed) {
		throw new Error('cannot clone body after it is used');
	}

	// Check that body is a stream and not form-data object
	// note: we can't clone the form-data object without having it as a dependency
	if ((body instanceof external_node_stream_) && (typeof body.getBoundary !== 'function')) {
		// Tee instance body
		p1 = new external_node_stream_.PassThrough({highWaterMark});
		p2 = new external_node_stream_.PassThrough({highWaterMark});
		body.pipe(p1);
		body.pipe(p2);
		// Set instance body to teed body and return the other teed body
		instance[INTERNALS].stream = p1;
		body = p2;
	}

	return body;
};

const getNonSpecFormDataBoundary = (0,external_node_util_.deprecate)(
	body => body.getBoundary(),
	'form-data doesn\'t follow the spec and requires special treatment. Use alternative package',
	'https://github.com/node-fetch/node-fetch/issues/1167'
);

/**
 * Performs the operation "extract a `Content-Type` value from |object|" as
 * specified in the specification:
 * https://fetch.spec.whatwg.org/#concept-bodyinit-extract
 *
 * This function assumes that instance.body is present.
 *
 * @param {any} body Any options.body input
 * @returns {string | null}
 */
const extractContentType = (body, request) => {
	// Body is null or undefined
	if (body === null) {
		return null;
	}

	// Body is string
	if (typeof body === 'string') {
		return 'text/plain;charset=UTF-8';
	}

	// Body is a URLSearchParams
	if (isURLSearchParameters(body)) {
		return 'application/x-www-form-urlencoded;charset=UTF-8';
	}

	// Body is blob
	if (isBlob(body)) {
		return body.type || null;
	}

	// Body is a Buffer (Buffer, ArrayBuffer or ArrayBufferView)
	if (external_node_buffer_.Buffer.isBuffer(body) || external_node_util_.types.isAnyArrayBuffer(body) || ArrayBuffer.isView(body)) {
		return null;
	}

	if (body instanceof esm_min/* FormData */.fS) {
		return `multipart/form-data; boundary=${request[INTERNALS].boundary}`;
	}

	// Detect form data input from form-data module
	if (body && typeof body.getBoundary === 'function') {
		return `multipart/form-data;boundary=${getNonSpecFormDataBoundary(body)}`;
	}

	// Body is stream - can't really do much about this
	if (body instanceof external_node_stream_) {
		return null;
	}

	// Body constructor defaults other things to string
	return 'text/plain;charset=UTF-8';
};

/**
 * The Fetch Standard treats this as if "total bytes" is a property on the body.
 * For us, we have to explicitly get it with a function.
 *
 * ref: https://fetch.spec.whatwg.org/#concept-body-total-bytes
 *
 * @param {any} obj.body Body object from the Body instance.
 * @returns {number | null}
 */
const getTotalBytes = request => {
	const {body} = request[INTERNALS];

	// Body is null or undefined
	if (body === null) {
		return 0;
	}

	// Body is Blob
	if (isBlob(body)) {
		return body.size;
	}

	// Body is Buffer
	if (external_node_buffer_.Buffer.isBuffer(body)) {
		return body.length;
	}

	// Detect form data input from form-data module
	if (body && typeof body.getLengthSync === 'function') {
		return body.hasKnownLength && body.hasKnownLength() ? body.getLengthSync() : null;
	}

	// Body is stream
	return null;
};

/**
 * Write a Body to a Node.js WritableStream (e.g. http.Request) object.
 *
 * @param {Stream.Writable} dest The stream to write to.
 * @param obj.body Body object from the Body instance.
 * @returns {Promise<void>}
 */
const writeToStream = async (dest, {body}) => {
	if (body === null) {
		// Body is null
		dest.end();
	} else {
		// Body is stream
		await pipeline(body, dest);
	}
};

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/headers.js
/**
 * Headers.js
 *
 * Headers class offers convenient helpers
 */




/* c8 ignore next 9 */
const validateHeaderName = typeof external_node_http_.validateHeaderName === 'function' ?
	external_node_http_.validateHeaderName :
	name => {
		if (!/^[\^`\-\w!#$%&'*+.|~]+$/.test(name)) {
			const error = new TypeError(`Header name must be a valid HTTP token [${name}]`);
			Object.defineProperty(error, 'code', {value: 'ERR_INVALID_HTTP_TOKEN'});
			throw error;
		}
	};

/* c8 ignore next 9 */
const validateHeaderValue = typeof external_node_http_.validateHeaderValue === 'function' ?
	external_node_http_.validateHeaderValue :
	(name, value) => {
		if (/[^\t\u0020-\u007E\u0080-\u00FF]/.test(value)) {
			const error = new TypeError(`Invalid character in header content ["${name}"]`);
			Object.defineProperty(error, 'code', {value: 'ERR_INVALID_CHAR'});
			throw error;
		}
	};

/**
 * @typedef {Headers | Record<string, string> | Iterable<readonly [string, string]> | Iterable<Iterable<string>>} HeadersInit
 */

/**
 * This Fetch API interface allows you to perform various actions on HTTP request and response headers.
 * These actions include retrieving, setting, adding to, and removing.
 * A Headers object has an associated header list, which is initially empty and consists of zero or more name and value pairs.
 * You can add to this using methods like append() (see Examples.)
 * In all methods of this interface, header names are matched by case-insensitive byte sequence.
 *
 */
class Headers extends URLSearchParams {
	/**
	 * Headers class
	 *
	 * @constructor
	 * @param {HeadersInit} [init] - Response headers
	 */
	constructor(init) {
		// Validate and normalize init object in [name, value(s)][]
		/** @type {string[][]} */
		let result = [];
		if (init instanceof Headers) {
			const raw = init.raw();
			for (const [name, values] of Object.entries(raw)) {
				result.push(...values.map(value => [name, value]));
			}
		} else if (init == null) { // eslint-disable-line no-eq-null, eqeqeq
			// No op
		} else if (typeof init === 'object' && !external_node_util_.types.isBoxedPrimitive(init)) {
			const method = init[Symbol.iterator];
			// eslint-disable-next-line no-eq-null, eqeqeq
			if (method == null) {
				// Record<ByteString, ByteString>
				result.push(...Object.entries(init));
			} else {
				if (typeof method !== 'function') {
					throw new TypeError('Header pairs must be iterable');
				}

				// Sequence<sequence<ByteString>>
				// Note: per spec we have to first exhaust the lists then process them
				result = [...init]
					.map(pair => {
						if (
							typeof pair !== 'object' || external_node_util_.types.isBoxedPrimitive(pair)
						) {
							throw new TypeError('Each header pair must be an iterable object');
						}

						return [...pair];
					}).map(pair => {
						if (pair.length !== 2) {
							throw new TypeError('Each header pair must be a name/value tuple');
						}

						return [...pair];
					});
			}
		} else {
			throw new TypeError('Failed to construct \'Headers\': The provided value is not of type \'(sequence<sequence<ByteString>> or record<ByteString, ByteString>)');
		}

		// Validate and lowercase
		result =
			result.length > 0 ?
				result.map(([name, value]) => {
					validateHeaderName(name);
					validateHeaderValue(name, String(value));
					return [String(name).toLowerCase(), String(value)];
				}) :
				undefined;

		super(result);

		// Returning a Proxy that will lowercase key names, validate parameters and sort keys
		// eslint-disable-next-line no-constructor-return
		return new Proxy(this, {
			get(target, p, receiver) {
				switch (p) {
					case 'append':
					case 'set':
						return (name, value) => {
							validateHeaderName(name);
							validateHeaderValue(name, String(value));
							return URLSearchParams.prototype[p].call(
								target,
								String(name).toLowerCase(),
								String(value)
							);
						};

					case 'delete':
					case 'has':
					case 'getAll':
						return name => {
							validateHeaderName(name);
							return URLSearchParams.prototype[p].call(
								target,
								String(name).toLowerCase()
							);
						};

					case 'keys':
						return () => {
							target.sort();
							return new Set(URLSearchParams.prototype.keys.call(target)).keys();
						};

					default:
						return Reflect.get(target, p, receiver);
				}
			}
		});
		/* c8 ignore next */
	}

	get [Symbol.toStringTag]() {
		return this.constructor.name;
	}

	toString() {
		return Object.prototype.toString.call(this);
	}

	get(name) {
		const values = this.getAll(name);
		if (values.length === 0) {
			return null;
		}

		let value = values.join(', ');
		if (/^content-encoding$/i.test(name)) {
			value = value.toLowerCase();
		}

		return value;
	}

	forEach(callback, thisArg = undefined) {
		for (const name of this.keys()) {
			Reflect.apply(callback, thisArg, [this.get(name), name, this]);
		}
	}

	* values() {
		for (const name of this.keys()) {
			yield this.get(name);
		}
	}

	/**
	 * @type {() => IterableIterator<[string, string]>}
	 */
	* entries() {
		for (const name of this.keys()) {
			yield [name, this.get(name)];
		}
	}

	[Symbol.iterator]() {
		return this.entries();
	}

	/**
	 * Node-fetch non-spec method
	 * returning all headers and their values as array
	 * @returns {Record<string, string[]>}
	 */
	raw() {
		return [...this.keys()].reduce((result, key) => {
			result[key] = this.getAll(key);
			return result;
		}, {});
	}

	/**
	 * For better console.log(headers) and also to convert Headers into Node.js Request compatible format
	 */
	[Symbol.for('nodejs.util.inspect.custom')]() {
		return [...this.keys()].reduce((result, key) => {
			const values = this.getAll(key);
			// Http.request() only supports string as Host header.
			// This hack makes specifying custom Host header possible.
			if (key === 'host') {
				result[key] = values[0];
			} else {
				result[key] = values.length > 1 ? values : values[0];
			}

			return result;
		}, {});
	}
}

/**
 * Re-shaping object for Web IDL tests
 * Only need to do it for overridden methods
 */
Object.defineProperties(
	Headers.prototype,
	['get', 'entries', 'forEach', 'values'].reduce((result, property) => {
		result[property] = {enumerable: true};
		return result;
	}, {})
);

/**
 * Create a Headers object from an http.IncomingMessage.rawHeaders, ignoring those that do
 * not conform to HTTP grammar productions.
 * @param {import('http').IncomingMessage['rawHeaders']} headers
 */
function fromRawHeaders(headers = []) {
	return new Headers(
		headers
			// Split into pairs
			.reduce((result, value, index, array) => {
				if (index % 2 === 0) {
					result.push(array.slice(index, index + 2));
				}

				return result;
			}, [])
			.filter(([name, value]) => {
				try {
					validateHeaderName(name);
					validateHeaderValue(name, String(value));
					return true;
				} catch {
					return false;
				}
			})

	);
}

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/utils/is-redirect.js
const redirectStatus = new Set([301, 302, 303, 307, 308]);

/**
 * Redirect code matching
 *
 * @param {number} code - Status code
 * @return {boolean}
 */
const isRedirect = code => {
	return redirectStatus.has(code);
};

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/response.js
/**
 * Response.js
 *
 * Response class provides content decoding
 */





const response_INTERNALS = Symbol('Response internals');

/**
 * Response class
 *
 * Ref: https://fetch.spec.whatwg.org/#response-class
 *
 * @param   Stream  body  Readable stream
 * @param   Object  opts  Response options
 * @return  Void
 */
class Response extends Body {
	constructor(body = null, options = {}) {
		super(body, options);

		// eslint-disable-next-line no-eq-null, eqeqeq, no-negated-condition
		const status = options.status != null ? options.status : 200;

		const headers = new Headers(options.headers);

		if (body !== null && !headers.has('Content-Type')) {
			const contentType = extractContentType(body, this);
			if (contentType) {
				headers.append('Content-Type', contentType);
			}
		}

		this[response_INTERNALS] = {
			type: 'default',
			url: options.url,
			status,
			statusText: options.statusText || '',
			headers,
			counter: options.counter,
			highWaterMark: options.highWaterMark
		};
	}

	get type() {
		return this[response_INTERNALS].type;
	}

	get url() {
		return this[response_INTERNALS].url || '';
	}

	get status() {
		return this[response_INTERNALS].status;
	}

	/**
	 * Convenience property representing if the request ended normally
	 */
	get ok() {
		return this[response_INTERNALS].status >= 200 && this[response_INTERNALS].status < 300;
	}

	get redirected() {
		return this[response_INTERNALS].counter > 0;
	}

	get statusText() {
		return this[response_INTERNALS].statusText;
	}

	get headers() {
		return this[response_INTERNALS].headers;
	}

	get highWaterMark() {
		return this[response_INTERNALS].highWaterMark;
	}

	/**
	 * Clone this response
	 *
	 * @return  Response
	 */
	clone() {
		return new Response(clone(this, this.highWaterMark), {
			type: this.type,
			url: this.url,
			status: this.status,
			statusText: this.statusText,
			headers: this.headers,
			ok: this.ok,
			redirected: this.redirected,
			size: this.size,
			highWaterMark: this.highWaterMark
		});
	}

	/**
	 * @param {string} url    The URL that the new response is to originate from.
	 * @param {number} status An optional status code for the response (e.g., 302.)
	 * @returns {Response}    A Response object.
	 */
	static redirect(url, status = 302) {
		if (!isRedirect(status)) {
			throw new RangeError('Failed to execute "redirect" on "response": Invalid status code');
		}

		return new Response(null, {
			headers: {
				location: new URL(url).toString()
			},
			status
		});
	}

	static error() {
		const response = new Response(null, {status: 0, statusText: ''});
		response[response_INTERNALS].type = 'error';
		return response;
	}

	static json(data = undefined, init = {}) {
		const body = JSON.stringify(data);

		if (body === undefined) {
			throw new TypeError('data is not JSON serializable');
		}

		const headers = new Headers(init && init.headers);

		if (!headers.has('content-type')) {
			headers.set('content-type', 'application/json');
		}

		return new Response(body, {
			...init,
			headers
		});
	}

	get [Symbol.toStringTag]() {
		return 'Response';
	}
}

Object.defineProperties(Response.prototype, {
	type: {enumerable: true},
	url: {enumerable: true},
	status: {enumerable: true},
	ok: {enumerable: true},
	redirected: {enumerable: true},
	statusText: {enumerable: true},
	headers: {enumerable: true},
	clone: {enumerable: true}
});

// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __nccwpck_require__(3136);
;// CONCATENATED MODULE: ./node_modules/node-fetch/src/utils/get-search.js
const getSearch = parsedURL => {
	if (parsedURL.search) {
		return parsedURL.search;
	}

	const lastOffset = parsedURL.href.length - 1;
	const hash = parsedURL.hash || (parsedURL.href[lastOffset] === '#' ? '#' : '');
	return parsedURL.href[lastOffset - hash.length] === '?' ? '?' : '';
};

// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __nccwpck_require__(7030);
;// CONCATENATED MODULE: ./node_modules/node-fetch/src/utils/referrer.js


/**
 * @external URL
 * @see {@link https://developer.mozilla.org/en-US/docs/Web/API/URL|URL}
 */

/**
 * @module utils/referrer
 * @private
 */

/**
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#strip-url|Referrer Policy §8.4. Strip url for use as a referrer}
 * @param {string} URL
 * @param {boolean} [originOnly=false]
 */
function stripURLForUseAsAReferrer(url, originOnly = false) {
	// 1. If url is null, return no referrer.
	if (url == null) { // eslint-disable-line no-eq-null, eqeqeq
		return 'no-referrer';
	}

	url = new URL(url);

	// 2. If url's scheme is a local scheme, then return no referrer.
	if (/^(about|blob|data):$/.test(url.protocol)) {
		return 'no-referrer';
	}

	// 3. Set url's username to the empty string.
	url.username = '';

	// 4. Set url's password to null.
	// Note: `null` appears to be a mistake as this actually results in the password being `"null"`.
	url.password = '';

	// 5. Set url's fragment to null.
	// Note: `null` appears to be a mistake as this actually results in the fragment being `"#null"`.
	url.hash = '';

	// 6. If the origin-only flag is true, then:
	if (originOnly) {
		// 6.1. Set url's path to null.
		// Note: `null` appears to be a mistake as this actually results in the path being `"/null"`.
		url.pathname = '';

		// 6.2. Set url's query to null.
		// Note: `null` appears to be a mistake as this actually results in the query being `"?null"`.
		url.search = '';
	}

	// 7. Return url.
	return url;
}

/**
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#enumdef-referrerpolicy|enum ReferrerPolicy}
 */
const ReferrerPolicy = new Set([
	'',
	'no-referrer',
	'no-referrer-when-downgrade',
	'same-origin',
	'origin',
	'strict-origin',
	'origin-when-cross-origin',
	'strict-origin-when-cross-origin',
	'unsafe-url'
]);

/**
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#default-referrer-policy|default referrer policy}
 */
const DEFAULT_REFERRER_POLICY = 'strict-origin-when-cross-origin';

/**
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#referrer-policies|Referrer Policy §3. Referrer Policies}
 * @param {string} referrerPolicy
 * @returns {string} referrerPolicy
 */
function validateReferrerPolicy(referrerPolicy) {
	if (!ReferrerPolicy.has(referrerPolicy)) {
		throw new TypeError(`Invalid referrerPolicy: ${referrerPolicy}`);
	}

	return referrerPolicy;
}

/**
 * @see {@link https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy|Referrer Policy §3.2. Is origin potentially trustworthy?}
 * @param {external:URL} url
 * @returns `true`: "Potentially Trustworthy", `false`: "Not Trustworthy"
 */
function isOriginPotentiallyTrustworthy(url) {
	// 1. If origin is an opaque origin, return "Not Trustworthy".
	// Not applicable

	// 2. Assert: origin is a tuple origin.
	// Not for implementations

	// 3. If origin's scheme is either "https" or "wss", return "Potentially Trustworthy".
	if (/^(http|ws)s:$/.test(url.protocol)) {
		return true;
	}

	// 4. If origin's host component matches one of the CIDR notations 127.0.0.0/8 or ::1/128 [RFC4632], return "Potentially Trustworthy".
	const hostIp = url.host.replace(/(^\[)|(]$)/g, '');
	const hostIPVersion = (0,external_node_net_.isIP)(hostIp);

	if (hostIPVersion === 4 && /^127\./.test(hostIp)) {
		return true;
	}

	if (hostIPVersion === 6 && /^(((0+:){7})|(::(0+:){0,6}))0*1$/.test(hostIp)) {
		return true;
	}

	// 5. If origin's host component is "localhost" or falls within ".localhost", and the user agent conforms to the name resolution rules in [let-localhost-be-localhost], return "Potentially Trustworthy".
	// We are returning FALSE here because we cannot ensure conformance to
	// let-localhost-be-loalhost (https://tools.ietf.org/html/draft-west-let-localhost-be-localhost)
	if (url.host === 'localhost' || url.host.endsWith('.localhost')) {
		return false;
	}

	// 6. If origin's scheme component is file, return "Potentially Trustworthy".
	if (url.protocol === 'file:') {
		return true;
	}

	// 7. If origin's scheme component is one which the user agent considers to be authenticated, return "Potentially Trustworthy".
	// Not supported

	// 8. If origin has been configured as a trustworthy origin, return "Potentially Trustworthy".
	// Not supported

	// 9. Return "Not Trustworthy".
	return false;
}

/**
 * @see {@link https://w3c.github.io/webappsec-secure-contexts/#is-url-trustworthy|Referrer Policy §3.3. Is url potentially trustworthy?}
 * @param {external:URL} url
 * @returns `true`: "Potentially Trustworthy", `false`: "Not Trustworthy"
 */
function isUrlPotentiallyTrustworthy(url) {
	// 1. If url is "about:blank" or "about:srcdoc", return "Potentially Trustworthy".
	if (/^about:(blank|srcdoc)$/.test(url)) {
		return true;
	}

	// 2. If url's scheme is "data", return "Potentially Trustworthy".
	if (url.protocol === 'data:') {
		return true;
	}

	// Note: The origin of blob: and filesystem: URLs is the origin of the context in which they were
	// created. Therefore, blobs created in a trustworthy origin will themselves be potentially
	// trustworthy.
	if (/^(blob|filesystem):$/.test(url.protocol)) {
		return true;
	}

	// 3. Return the result of executing §3.2 Is origin potentially trustworthy? on url's origin.
	return isOriginPotentiallyTrustworthy(url);
}

/**
 * Modifies the referrerURL to enforce any extra security policy considerations.
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#determine-requests-referrer|Referrer Policy §8.3. Determine request's Referrer}, step 7
 * @callback module:utils/referrer~referrerURLCallback
 * @param {external:URL} referrerURL
 * @returns {external:URL} modified referrerURL
 */

/**
 * Modifies the referrerOrigin to enforce any extra security policy considerations.
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#determine-requests-referrer|Referrer Policy §8.3. Determine request's Referrer}, step 7
 * @callback module:utils/referrer~referrerOriginCallback
 * @param {external:URL} referrerOrigin
 * @returns {external:URL} modified referrerOrigin
 */

/**
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#determine-requests-referrer|Referrer Policy §8.3. Determine request's Referrer}
 * @param {Request} request
 * @param {object} o
 * @param {module:utils/referrer~referrerURLCallback} o.referrerURLCallback
 * @param {module:utils/referrer~referrerOriginCallback} o.referrerOriginCallback
 * @returns {external:URL} Request's referrer
 */
function determineRequestsReferrer(request, {referrerURLCallback, referrerOriginCallback} = {}) {
	// There are 2 notes in the specification about invalid pre-conditions.  We return null, here, for
	// these cases:
	// > Note: If request's referrer is "no-referrer", Fetch will not call into this algorithm.
	// > Note: If request's referrer policy is the empty string, Fetch will not call into this
	// > algorithm.
	if (request.referrer === 'no-referrer' || request.referrerPolicy === '') {
		return null;
	}

	// 1. Let policy be request's associated referrer policy.
	const policy = request.referrerPolicy;

	// 2. Let environment be request's client.
	// not applicable to node.js

	// 3. Switch on request's referrer:
	if (request.referrer === 'about:client') {
		return 'no-referrer';
	}

	// "a URL": Let referrerSource be request's referrer.
	const referrerSource = request.referrer;

	// 4. Let request's referrerURL be the result of stripping referrerSource for use as a referrer.
	let referrerURL = stripURLForUseAsAReferrer(referrerSource);

	// 5. Let referrerOrigin be the result of stripping referrerSource for use as a referrer, with the
	//    origin-only flag set to true.
	let referrerOrigin = stripURLForUseAsAReferrer(referrerSource, true);

	// 6. If the result of serializing referrerURL is a string whose length is greater than 4096, set
	//    referrerURL to referrerOrigin.
	if (referrerURL.toString().length > 4096) {
		referrerURL = referrerOrigin;
	}

	// 7. The user agent MAY alter referrerURL or referrerOrigin at this point to enforce arbitrary
	//    policy considerations in the interests of minimizing data leakage. For example, the user
	//    agent could strip the URL down to an origin, modify its host, replace it with an empty
	//    string, etc.
	if (referrerURLCallback) {
		referrerURL = referrerURLCallback(referrerURL);
	}

	if (referrerOriginCallback) {
		referrerOrigin = referrerOriginCallback(referrerOrigin);
	}

	// 8.Execute the statements corresponding to the value of policy:
	const currentURL = new URL(request.url);

	switch (policy) {
		case 'no-referrer':
			return 'no-referrer';

		case 'origin':
			return referrerOrigin;

		case 'unsafe-url':
			return referrerURL;

		case 'strict-origin':
			// 1. If referrerURL is a potentially trustworthy URL and request's current URL is not a
			//    potentially trustworthy URL, then return no referrer.
			if (isUrlPotentiallyTrustworthy(referrerURL) && !isUrlPotentiallyTrustworthy(currentURL)) {
				return 'no-referrer';
			}

			// 2. Return referrerOrigin.
			return referrerOrigin.toString();

		case 'strict-origin-when-cross-origin':
			// 1. If the origin of referrerURL and the origin of request's current URL are the same, then
			//    return referrerURL.
			if (referrerURL.origin === currentURL.origin) {
				return referrerURL;
			}

			// 2. If referrerURL is a potentially trustworthy URL and request's current URL is not a
			//    potentially trustworthy URL, then return no referrer.
			if (isUrlPotentiallyTrustworthy(referrerURL) && !isUrlPotentiallyTrustworthy(currentURL)) {
				return 'no-referrer';
			}

			// 3. Return referrerOrigin.
			return referrerOrigin;

		case 'same-origin':
			// 1. If the origin of referrerURL and the origin of request's current URL are the same, then
			//    return referrerURL.
			if (referrerURL.origin === currentURL.origin) {
				return referrerURL;
			}

			// 2. Return no referrer.
			return 'no-referrer';

		case 'origin-when-cross-origin':
			// 1. If the origin of referrerURL and the origin of request's current URL are the same, then
			//    return referrerURL.
			if (referrerURL.origin === currentURL.origin) {
				return referrerURL;
			}

			// Return referrerOrigin.
			return referrerOrigin;

		case 'no-referrer-when-downgrade':
			// 1. If referrerURL is a potentially trustworthy URL and request's current URL is not a
			//    potentially trustworthy URL, then return no referrer.
			if (isUrlPotentiallyTrustworthy(referrerURL) && !isUrlPotentiallyTrustworthy(currentURL)) {
				return 'no-referrer';
			}

			// 2. Return referrerURL.
			return referrerURL;

		default:
			throw new TypeError(`Invalid referrerPolicy: ${policy}`);
	}
}

/**
 * @see {@link https://w3c.github.io/webappsec-referrer-policy/#parse-referrer-policy-from-header|Referrer Policy §8.1. Parse a referrer policy from a Referrer-Policy header}
 * @param {Headers} headers Response headers
 * @returns {string} policy
 */
function parseReferrerPolicyFromHeader(headers) {
	// 1. Let policy-tokens be the result of extracting header list values given `Referrer-Policy`
	//    and response’s header list.
	const policyTokens = (headers.get('referrer-policy') || '').split(/[,\s]+/);

	// 2. Let policy be the empty string.
	let policy = '';

	// 3. For each token in policy-tokens, if token is a referrer policy and token is not the empty
	//    string, then set policy to token.
	// Note: This algorithm loops over multiple policy values to allow deployment of new policy
	// values with fallbacks for older user agents, as described in § 11.1 Unknown Policy Values.
	for (const token of policyTokens) {
		if (token && ReferrerPolicy.has(token)) {
			policy = token;
		}
	}

	// 4. Return policy.
	return policy;
}

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/request.js
/**
 * Request.js
 *
 * Request class contains server only options
 *
 * All spec algorithm step numbers are based on https://fetch.spec.whatwg.org/commit-snapshots/ae716822cb3a61843226cd090eefc6589446c1d2/.
 */









const request_INTERNALS = Symbol('Request internals');

/**
 * Check if `obj` is an instance of Request.
 *
 * @param  {*} object
 * @return {boolean}
 */
const isRequest = object => {
	return (
		typeof object === 'object' &&
		typeof object[request_INTERNALS] === 'object'
	);
};

const doBadDataWarn = (0,external_node_util_.deprecate)(() => {},
	'.data is not a valid RequestInit property, use .body instead',
	'https://github.com/node-fetch/node-fetch/issues/1000 (request)');

/**
 * Request class
 *
 * Ref: https://fetch.spec.whatwg.org/#request-class
 *
 * @param   Mixed   input  Url or Request instance
 * @param   Object  init   Custom options
 * @return  Void
 */
class Request extends Body {
	constructor(input, init = {}) {
		let parsedURL;

		// Normalize input and force URL to be encoded as UTF-8 (https://github.com/node-fetch/node-fetch/issues/245)
		if (isRequest(input)) {
			parsedURL = new URL(input.url);
		} else {
			parsedURL = new URL(input);
			input = {};
		}

		if (parsedURL.username !== '' || parsedURL.password !== '') {
			throw new TypeError(`${parsedURL} is an url with embedded credentials.`);
		}

		let method = init.method || input.method || 'GET';
		if (/^(delete|get|head|options|post|put)$/i.test(method)) {
			method = method.toUpperCase();
		}

		if (!isRequest(init) && 'data' in init) {
			doBadDataWarn();
		}

		// eslint-disable-next-line no-eq-null, eqeqeq
		if ((init.body != null || (isRequest(input) && input.body !== null)) &&
			(method === 'GET' || method === 'HEAD')) {
			throw new TypeError('Request with GET/HEAD method cannot have body');
		}

		const inputBody = init.body ?
			init.body :
			(isRequest(input) && input.body !== null ?
				clone(input) :
				null);

		super(inputBody, {
			size: init.size || input.size || 0
		});

		const headers = new Headers(init.headers || input.headers || {});

		if (inputBody !== null && !headers.has('Content-Type')) {
			const contentType = extractContentType(inputBody, this);
			if (contentType) {
				headers.set('Content-Type', contentType);
			}
		}

		let signal = isRequest(input) ?
			input.signal :
			null;
		if ('signal' in init) {
			signal = init.signal;
		}

		// eslint-disable-next-line no-eq-null, eqeqeq
		if (signal != null && !isAbortSignal(signal)) {
			throw new TypeError('Expected signal to be an instanceof AbortSignal or EventTarget');
		}

		// §5.4, Request constructor steps, step 15.1
		// eslint-disable-next-line no-eq-null, eqeqeq
		let referrer = init.referrer == null ? input.referrer : init.referrer;
		if (referrer === '') {
			// §5.4, Request constructor steps, step 15.2
			referrer = 'no-referrer';
		} else if (referrer) {
			// §5.4, Request constructor steps, step 15.3.1, 15.3.2
			const parsedReferrer = new URL(referrer);
			// §5.4, Request constructor steps, step 15.3.3, 15.3.4
			referrer = /^about:(\/\/)?client$/.test(parsedReferrer) ? 'client' : parsedReferrer;
		} else {
			referrer = undefined;
		}

		this[request_INTERNALS] = {
			method,
			redirect: init.redirect || input.redirect || 'follow',
			headers,
			parsedURL,
			signal,
			referrer
		};

		// Node-fetch-only options
		this.follow = init.follow === undefined ? (input.follow === undefined ? 20 : input.follow) : init.follow;
		this.compress = init.compress === undefined ? (input.compress === undefined ? true : input.compress) : init.compress;
		this.counter = init.counter || input.counter || 0;
		this.agent = init.agent || input.agent;
		this.highWaterMark = init.highWaterMark || input.highWaterMark || 16384;
		this.insecureHTTPParser = init.insecureHTTPParser || input.insecureHTTPParser || false;

		// §5.4, Request constructor steps, step 16.
		// Default is empty string per https://fetch.spec.whatwg.org/#concept-request-referrer-policy
		this.referrerPolicy = init.referrerPolicy || input.referrerPolicy || '';
	}

	/** @returns {string} */
	get method() {
		return this[request_INTERNALS].method;
	}

	/** @returns {string} */
	get url() {
		return (0,external_node_url_.format)(this[request_INTERNALS].parsedURL);
	}

	/** @returns {Headers} */
	get headers() {
		return this[request_INTERNALS].headers;
	}

	get redirect() {
		return this[request_INTERNALS].redirect;
	}

	/** @returns {AbortSignal} */
	get signal() {
		return this[request_INTERNALS].signal;
	}

	// https://fetch.spec.whatwg.org/#dom-request-referrer
	get referrer() {
		if (this[request_INTERNALS].referrer === 'no-referrer') {
			return '';
		}

		if (this[request_INTERNALS].referrer === 'client') {
			return 'about:client';
		}

		if (this[request_INTERNALS].referrer) {
			return this[request_INTERNALS].referrer.toString();
		}

		return undefined;
	}

	get referrerPolicy() {
		return this[request_INTERNALS].referrerPolicy;
	}

	set referrerPolicy(referrerPolicy) {
		this[request_INTERNALS].referrerPolicy = validateReferrerPolicy(referrerPolicy);
	}

	/**
	 * Clone this request
	 *
	 * @return  Request
	 */
	clone() {
		return new Request(this);
	}

	get [Symbol.toStringTag]() {
		return 'Request';
	}
}

Object.defineProperties(Request.prototype, {
	method: {enumerable: true},
	url: {enumerable: true},
	headers: {enumerable: true},
	redirect: {enumerable: true},
	clone: {enumerable: true},
	signal: {enumerable: true},
	referrer: {enumerable: true},
	referrerPolicy: {enumerable: true}
});

/**
 * Convert a Request to Node.js http request options.
 *
 * @param {Request} request - A Request instance
 * @return The options object to be passed to http.request
 */
const getNodeRequestOptions = request => {
	const {parsedURL} = request[request_INTERNALS];
	const headers = new Headers(request[request_INTERNALS].headers);

	// Fetch step 1.3
	if (!headers.has('Accept')) {
		headers.set('Accept', '*/*');
	}

	// HTTP-network-or-cache fetch steps 2.4-2.7
	let contentLengthValue = null;
	if (request.body === null && /^(post|put)$/i.test(request.method)) {
		contentLengthValue = '0';
	}

	if (request.body !== null) {
		const totalBytes = getTotalBytes(request);
		// Set Content-Length if totalBytes is a number (that is not NaN)
		if (typeof totalBytes === 'number' && !Number.isNaN(totalBytes)) {
			contentLengthValue = String(totalBytes);
		}
	}

	if (contentLengthValue) {
		headers.set('Content-Length', contentLengthValue);
	}

	// 4.1. Main fetch, step 2.6
	// > If request's referrer policy is the empty string, then set request's referrer policy to the
	// > default referrer policy.
	if (request.referrerPolicy === '') {
		request.referrerPolicy = DEFAULT_REFERRER_POLICY;
	}

	// 4.1. Main fetch, step 2.7
	// > If request's referrer is not "no-referrer", set request's referrer to the result of invoking
	// > determine request's referrer.
	if (request.referrer && request.referrer !== 'no-referrer') {
		request[request_INTERNALS].referrer = determineRequestsReferrer(request);
	} else {
		request[request_INTERNALS].referrer = 'no-referrer';
	}

	// 4.5. HTTP-network-or-cache fetch, step 6.9
	// > If httpRequest's referrer is a URL, then append `Referer`/httpRequest's referrer, serialized
	// >  and isomorphic encoded, to httpRequest's header list.
	if (request[request_INTERNALS].referrer instanceof URL) {
		headers.set('Referer', request.referrer);
	}

	// HTTP-network-or-cache fetch step 2.11
	if (!headers.has('User-Agent')) {
		headers.set('User-Agent', 'node-fetch');
	}

	// HTTP-network-or-cache fetch step 2.15
	if (request.compress && !headers.has('Accept-Encoding')) {
		headers.set('Accept-Encoding', 'gzip, deflate, br');
	}

	let {agent} = request;
	if (typeof agent === 'function') {
		agent = agent(parsedURL);
	}

	// HTTP-network fetch step 4.2
	// chunked encoding is handled by Node.js

	const search = getSearch(parsedURL);

	// Pass the full URL directly to request(), but overwrite the following
	// options:
	const options = {
		// Overwrite search to retain trailing ? (issue #776)
		path: parsedURL.pathname + search,
		// The following options are not expressed in the URL
		method: request.method,
		headers: headers[Symbol.for('nodejs.util.inspect.custom')](),
		insecureHTTPParser: request.insecureHTTPParser,
		agent
	};

	return {
		/** @type {URL} */
		parsedURL,
		options
	};
};

;// CONCATENATED MODULE: ./node_modules/node-fetch/src/errors/abort-error.js


/**
 * AbortError interface for cancelled requests
 */
class AbortError extends FetchBaseError {
	constructor(message, type = 'aborted') {
		super(message, type);
	}
}

// EXTERNAL MODULE: ./node_modules/fetch-blob/from.js
var from = __nccwpck_require__(995);
;// CONCATENATED MODULE: ./node_modules/node-fetch/src/index.js
/**
 * Index.js
 *
 * a request API compatible with window.fetch
 *
 * All spec algorithm step numbers are based on https://fetch.spec.whatwg.org/commit-snapshots/ae716822cb3a61843226cd090eefc6589446c1d2/.
 */
























const supportedSchemas = new Set(['data:', 'http:', 'https:']);

/**
 * Fetch function
 *
 * @param   {string | URL | import('./request').default} url - Absolute url or Request instance
 * @param   {*} [options_] - Fetch options
 * @return  {Promise<import('./response').default>}
 */
async function fetch(url, options_) {
	return new Promise((resolve, reject) => {
		// Build request object
		const request = new Request(url, options_);
		const {parsedURL, options} = getNodeRequestOptions(request);
		if (!supportedSchemas.has(parsedURL.protocol)) {
			throw new TypeError(`node-fetch cannot load ${url}. URL scheme "${parsedURL.protocol.replace(/:$/, '')}" is not supported.`);
		}

		if (parsedURL.protocol === 'data:') {
			const data = dist(request.url);
			const response = new Response(data, {headers: {'Content-Type': data.typeFull}});
			resolve(response);
			return;
		}

		// Wrap http.request into fetch
		const send = (parsedURL.protocol === 'https:' ? external_node_https_namespaceObject : external_node_http_).request;
		const {signal} = request;
		let response = null;

		const abort = () => {
			const error = new AbortError('The operation was aborted.');
			reject(error);
			if (request.body && request.body instanceof external_node_stream_.Readable) {
				request.body.destroy(error);
			}

			if (!response || !response.body) {
				return;
			}

			response.body.emit('error', error);
		};

		if (signal && signal.aborted) {
			abort();
			return;
		}

		const abortAndFinalize = () => {
			abort();
			finalize();
		};

		// Send request
		const request_ = send(parsedURL.toString(), options);

		if (signal) {
			signal.addEventListener('abort', abortAndFinalize);
		}

		const finalize = () => {
			request_.abort();
			if (signal) {
				signal.removeEventListener('abort', abortAndFinalize);
			}
		};

		request_.on('error', error => {
			reject(new FetchError(`request to ${request.url} failed, reason: ${error.message}`, 'system', error));
			finalize();
		});

		fixResponseChunkedTransferBadEnding(request_, error => {
			if (response && response.body) {
				response.body.destroy(error);
			}
		});

		/* c8 ignore next 18 */
		if (process.version < 'v14') {
			// Before Node.js 14, pipeline() does not fully support async iterators and does not always
			// properly handle when the socket close/end events are out of order.
			request_.on('socket', s => {
				let endedWithEventsCount;
				s.prependListener('end', () => {
					endedWithEventsCount = s._eventsCount;
				});
				s.prependListener('close', hadError => {
					// if end happened before close but the socket didn't emit an error, do it now
					if (response && endedWithEventsCount < s._eventsCount && !hadError) {
						const error = new Error('Premature close');
						error.code = 'ERR_STREAM_PREMATURE_CLOSE';
						response.body.emit('error', error);
					}
				});
			});
		}

		request_.on('response', response_ => {
			request_.setTimeout(0);
			const headers = fromRawHeaders(response_.rawHeaders);

			// HTTP fetch step 5
			if (isRedirect(response_.statusCode)) {
				// HTTP fetch step 5.2
				const location = headers.get('Location');

				// HTTP fetch step 5.3
				let locationURL = null;
				try {
					locationURL = location === null ? null : new URL(location, request.url);
				} catch {
					// error here can only be invalid URL in Location: header
					// do not throw when options.redirect == manual
					// let the user extract the errorneous redirect URL
					if (request.redirect !== 'manual') {
						reject(new FetchError(`uri requested responds with an invalid redirect URL: ${location}`, 'invalid-redirect'));
						finalize();
						return;
					}
				}

				// HTTP fetch step 5.5
				switch (request.redirect) {
					case 'error':
						reject(new FetchError(`uri requested responds with a redirect, redirect mode is set to error: ${request.url}`, 'no-redirect'));
						finalize();
						return;
					case 'manual':
						// Nothing to do
						break;
					case 'follow': {
						// HTTP-redirect fetch step 2
						if (locationURL === null) {
							break;
						}

						// HTTP-redirect fetch step 5
						if (request.counter >= request.follow) {
							reject(new FetchError(`maximum redirect reached at: ${request.url}`, 'max-redirect'));
							finalize();
							return;
						}

						// HTTP-redirect fetch step 6 (counter increment)
						// Create a new Request object.
						const requestOptions = {
							headers: new Headers(request.headers),
							follow: request.follow,
							counter: request.counter + 1,
							agent: request.agent,
							compress: request.compress,
							method: request.method,
							body: clone(request),
							signal: request.signal,
							size: request.size,
							referrer: request.referrer,
							referrerPolicy: request.referrerPolicy
						};

						// when forwarding sensitive headers like "Authorization",
						// "WWW-Authenticate", and "Cookie" to untrusted targets,
						// headers will be ignored when following a redirect to a domain
						// that is not a subdomain match or exact match of the initial domain.
						// For example, a redirect from "foo.com" to either "foo.com" or "sub.foo.com"
						// will forward the sensitive headers, but a redirect to "bar.com" will not.
						// headers will also be ignored when following a redirect to a domain using
						// a different protocol. For example, a redirect from "https://foo.com" to "http://foo.com"
						// will not forward the sensitive headers
						if (!isDomainOrSubdomain(request.url, locationURL) || !isSameProtocol(request.url, locationURL)) {
							for (const name of ['authorization', 'www-authenticate', 'cookie', 'cookie2']) {
								requestOptions.headers.delete(name);
							}
						}

						// HTTP-redirect fetch step 9
						if (response_.statusCode !== 303 && request.body && options_.body instanceof external_node_stream_.Readable) {
							reject(new FetchError('Cannot follow redirect with body being a readable stream', 'unsupported-redirect'));
							finalize();
							return;
						}

						// HTTP-redirect fetch step 11
						if (response_.statusCode === 303 || ((response_.statusCode === 301 || response_.statusCode === 302) && request.method === 'POST')) {
							requestOptions.method = 'GET';
							requestOptions.body = undefined;
							requestOptions.headers.delete('content-length');
						}

						// HTTP-redirect fetch step 14
						const responseReferrerPolicy = parseReferrerPolicyFromHeader(headers);
						if (responseReferrerPolicy) {
							requestOptions.referrerPolicy = responseReferrerPolicy;
						}

						// HTTP-redirect fetch step 15
						resolve(fetch(new Request(locationURL, requestOptions)));
						finalize();
						return;
					}

					default:
						return reject(new TypeError(`Redirect option '${request.redirect}' is not a valid value of RequestRedirect`));
				}
			}

			// Prepare response
			if (signal) {
				response_.once('end', () => {
					signal.removeEventListener('abort', abortAndFinalize);
				});
			}

			let body = (0,external_node_stream_.pipeline)(response_, new external_node_stream_.PassThrough(), error => {
				if (error) {
					reject(error);
				}
			});
			// see https://github.com/nodejs/node/pull/29376
			/* c8 ignore next 3 */
			if (process.version < 'v12.10') {
				response_.on('aborted', abortAndFinalize);
			}

			const responseOptions = {
				url: request.url,
				status: response_.statusCode,
				statusText: response_.statusMessage,
				headers,
				size: request.size,
				counter: request.counter,
				highWaterMark: request.highWaterMark
			};

			// HTTP-network fetch step 12.1.1.3
			const codings = headers.get('Content-Encoding');

			// HTTP-network fetch step 12.1.1.4: handle content codings

			// in following scenarios we ignore compression support
			// 1. compression support is disabled
			// 2. HEAD request
			// 3. no Content-Encoding header
			// 4. no content response (204)
			// 5. content not modified response (304)
			if (!request.compress || request.method === 'HEAD' || codings === null || response_.statusCode === 204 || response_.statusCode === 304) {
				response = new Response(body, responseOptions);
				resolve(response);
				return;
			}

			// For Node v6+
			// Be less strict when decoding compressed responses, since sometimes
			// servers send slightly invalid responses that are still accepted
			// by common browsers.
			// Always using Z_SYNC_FLUSH is what cURL does.
			const zlibOptions = {
				flush: external_node_zlib_.Z_SYNC_FLUSH,
				finishFlush: external_node_zlib_.Z_SYNC_FLUSH
			};

			// For gzip
			if (codings === 'gzip' || codings === 'x-gzip') {
				body = (0,external_node_stream_.pipeline)(body, external_node_zlib_.createGunzip(zlibOptions), error => {
					if (error) {
						reject(error);
					}
				});
				response = new Response(body, responseOptions);
				resolve(response);
				return;
			}

			// For deflate
			if (codings === 'deflate' || codings === 'x-deflate') {
				// Handle the infamous raw deflate response from old servers
				// a hack for old IIS and Apache servers
				const raw = (0,external_node_stream_.pipeline)(response_, new external_node_stream_.PassThrough(), error => {
					if (error) {
						reject(error);
					}
				});
				raw.once('data', chunk => {
					// See http://stackoverflow.com/questions/37519828
					if ((chunk[0] & 0x0F) === 0x08) {
						body = (0,external_node_stream_.pipeline)(body, external_node_zlib_.createInflate(), error => {
							if (error) {
								reject(error);
							}
						});
					} else {
						body = (0,external_node_stream_.pipeline)(body, external_node_zlib_.createInflateRaw(), error => {
							if (error) {
								reject(error);
							}
						});
					}

					response = new Response(body, responseOptions);
					resolve(response);
				});
				raw.once('end', () => {
					// Some old IIS servers return zero-length OK deflate responses, so
					// 'data' is never emitted. See https://github.com/node-fetch/node-fetch/pull/903
					if (!response) {
						response = new Response(body, responseOptions);
						resolve(response);
					}
				});
				return;
			}

			// For br
			if (codings === 'br') {
				body = (0,external_node_stream_.pipeline)(body, external_node_zlib_.createBrotliDecompress(), error => {
					if (error) {
						reject(error);
					}
				});
				response = new Response(body, responseOptions);
				resolve(response);
				return;
			}

			// Otherwise, use response as-is
			response = new Response(body, responseOptions);
			resolve(response);
		});

		// eslint-disable-next-line promise/prefer-await-to-then
		writeToStream(request_, request).catch(reject);
	});
}

function fixResponseChunkedTransferBadEnding(request, errorCallback) {
	const LAST_CHUNK = external_node_buffer_.Buffer.from('0\r\n\r\n');

	let isChunkedTransfer = false;
	let properLastChunkReceived = false;
	let previousChunk;

	request.on('response', response => {
		const {headers} = response;
		isChunkedTransfer = headers['transfer-encoding'] === 'chunked' && !headers['content-length'];
	});

	request.on('socket', socket => {
		const onSocketClose = () => {
			if (isChunkedTransfer && !properLastChunkReceived) {
				const error = new Error('Premature close');
				error.code = 'ERR_STREAM_PREMATURE_CLOSE';
				errorCallback(error);
			}
		};

		const onData = buf => {
			properLastChunkReceived = external_node_buffer_.Buffer.compare(buf.slice(-5), LAST_CHUNK) === 0;

			// Sometimes final 0-length chunk and end of message code are in separate packets
			if (!properLastChunkReceived && previousChunk) {
				properLastChunkReceived = (
					external_node_buffer_.Buffer.compare(previousChunk.slice(-3), LAST_CHUNK.slice(0, 3)) === 0 &&
					external_node_buffer_.Buffer.compare(buf.slice(-2), LAST_CHUNK.slice(3)) === 0
				);
			}

			previousChunk = buf;
		};

		socket.prependListener('close', onSocketClose);
		socket.on('data', onData);

		request.on('close', () => {
			socket.removeListener('close', onSocketClose);
			socket.removeListener('data', onData);
		});
	});
}

;// CONCATENATED MODULE: ./node_modules/proxy-from-env/index.js


var DEFAULT_PORTS = {
  ftp: 21,
  gopher: 70,
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
};

function parseUrl(urlString) {
  try {
    return new URL(urlString);
  } catch {
    return null;
  }
}

/**
 * @param {string|object|URL} url - The URL as a string or URL instance, or a
 *   compatible object (such as the result from legacy url.parse).
 * @return {string} The URL of the proxy that should handle the request to the
 *  given URL. If no proxy is set, this will be an empty string.
 */
function getProxyForUrl(url) {
  var parsedUrl = (typeof url === 'string' ? parseUrl(url) : url) || {};
  var proto = parsedUrl.protocol;
  var hostname = parsedUrl.host;
  var port = parsedUrl.port;
  if (typeof hostname !== 'string' || !hostname || typeof proto !== 'string') {
    return '';  // Don't proxy URLs without a valid scheme or host.
  }

  proto = proto.split(':', 1)[0];
  // Stripping ports in this way instead of using parsedUrl.hostname to make
  // sure that the brackets around IPv6 addresses are kept.
  hostname = hostname.replace(/:\d*$/, '');
  port = parseInt(port) || DEFAULT_PORTS[proto] || 0;
  if (!shouldProxy(hostname, port)) {
    return '';  // Don't proxy URLs that match NO_PROXY.
  }

  var proxy = getEnv(proto + '_proxy') || getEnv('all_proxy');
  if (proxy && proxy.indexOf('://') === -1) {
    // Missing scheme in proxy, default to the requested URL's scheme.
    proxy = proto + '://' + proxy;
  }
  return proxy;
}

/**
 * Determines whether a given URL should be proxied.
 *
 * @param {string} hostname - The host name of the URL.
 * @param {number} port - The effective port of the URL.
 * @returns {boolean} Whether the given URL should be proxied.
 * @private
 */
function shouldProxy(hostname, port) {
  var NO_PROXY = getEnv('no_proxy').toLowerCase();
  if (!NO_PROXY) {
    return true;  // Always proxy if NO_PROXY is not set.
  }
  if (NO_PROXY === '*') {
    return false;  // Never proxy if wildcard is set.
  }

  return NO_PROXY.split(/[,\s]/).every(function(proxy) {
    if (!proxy) {
      return true;  // Skip zero-length hosts.
    }
    var parsedProxy = proxy.match(/^(.+):(\d+)$/);
    var parsedProxyHostname = parsedProxy ? parsedProxy[1] : proxy;
    var parsedProxyPort = parsedProxy ? parseInt(parsedProxy[2]) : 0;
    if (parsedProxyPort && parsedProxyPort !== port) {
      return true;  // Skip if ports don't match.
    }

    if (!/^[.*]/.test(parsedProxyHostname)) {
      // No wildcards, so stop proxying if there is an exact match.
      return hostname !== parsedProxyHostname;
    }

    if (parsedProxyHostname.charAt(0) === '*') {
      // Remove leading wildcard.
      parsedProxyHostname = parsedProxyHostname.slice(1);
    }
    // Stop proxying if the hostname ends with the no_proxy host.
    return !hostname.endsWith(parsedProxyHostname);
  });
}

/**
 * Get the value for an environment variable.
 *
 * @param {string} key - The name of the environment variable.
 * @return {string} The value of the environment variable.
 * @private
 */
function getEnv(key) {
  return process.env[key.toLowerCase()] || process.env[key.toUpperCase()] || '';
}

;// CONCATENATED MODULE: ./src/secrets/loopback.ts
/**
 * Loopback hosts: the only ones the key may be sent to over http://, and never through a proxy,
 * since a proxy would carry the key in clear to a request that never needed to leave the machine.
 */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
/** `hostname` as URL.hostname gives it (IPv6 in brackets). */
function isLoopback(hostname) {
    return LOOPBACK.test(hostname);
}

;// CONCATENATED MODULE: ./src/secrets/redact.ts
/**
 * What a run must never print: the secrets it was given, in any form that gives one away, and, in
 * the Actions log, API text that the runner would read as a workflow command. Both faces print
 * through this.
 */
/**
 * The shortest run of a secret's characters that gives part of it away. A longer secret is found
 * by any such run, so that a half in one field and a half in another are each found.
 */
const SECRET_RUN = 8;
/** The longest line the log takes: API text (an error message) can be megabytes long. */
const LOG_LINE_LIMIT = 2_000;
class Secrets {
    known = [];
    windows;
    add(secret) {
        if (secret && !this.known.includes(secret)) {
            this.known.push(secret);
            this.windows = undefined;
        }
    }
    /**
     * The text with every span that gives a secret away replaced by ***: a run of SECRET_RUN of its
     * characters in any case, in base64 (either alphabet, at any alignment) or hex, as written or
     * behind escapes (%41, \u0041, \x41, &#65;, &#x41;, up to three layers). Linear in the text.
     */
    redact(text) {
        const spans = this.find(text);
        return spans.length === 0 ? text : cover(text, spans);
    }
    /** Whether the text gives a secret away, as redact() would find it. */
    holds(text) {
        return this.find(text).length > 0;
    }
    /**
     * Whether JSON text may spell a secret: it holds one in any form, or a JSON escape (\u005f, \/)
     * that could spell one once parsed. Most answers have neither and need no walk through
     * redactValue.
     */
    mightSpell(json) {
        return json.includes('\\') || this.holds(json);
    }
    /**
     * A parsed answer with every string in it (keys included) redacted. Done where answers come in,
     * so no later cut (a summary cell cut to 120 characters) or escape (_ as &#95;) can turn a secret
     * into text that no longer matches it but still gives it away.
     */
    redactValue(value) {
        if (this.known.length === 0)
            return value;
        if (typeof value === 'string')
            return this.redact(value);
        if (Array.isArray(value))
            return value.map(item => this.redactValue(item));
        if (value !== null && typeof value === 'object') {
            return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.redact(key), this.redactValue(item)]));
        }
        return value;
    }
    /** The spans of the text that give a secret away, in order, overlapping and touching ones as one. */
    find(text) {
        if (this.known.length === 0 || text.length === 0)
            return [];
        this.windows ??= windowsOf(this.known);
        const spans = [];
        for (let view = { text }, round = 0; view; round += 1) {
            for (const windows of this.windows)
                search(view, windows, spans);
            view = round < MAX_UNESCAPES ? unescaped(view) : undefined;
        }
        return merged(spans);
    }
}
/**
 * The forms of a secret that the runner's mask (exact matches only) should also hide: its other
 * cases, its base64 at each alignment in both alphabets (the characters that depend on it alone),
 * its hex, and its percent-encodings.
 */
function encodedForms(secret) {
    const forms = [
        secret.toLowerCase(),
        secret.toUpperCase(),
        encodeURIComponent(secret),
        percentEncoded(secret, 'upper'),
        percentEncoded(secret, 'lower'),
        ...(secret.length >= SECRET_RUN
            ? [...base64Forms(secret), hex(secret), hex(secret).toUpperCase()]
            : [])
    ];
    return [...new Set(forms)].filter(form => form !== secret && form.length >= SECRET_RUN);
}
/**
 * A line of the log cut to `limit` characters, with a note of how much was left out. The
 * summary cuts API text likewise.
 */
function clipLine(text, limit = LOG_LINE_LIMIT) {
    if (text.length <= limit)
        return text;
    let end = limit;
    // never half of a surrogate pair
    if (/[\uDC00-\uDFFF]/.test(text[end] ?? ''))
        end -= 1;
    return `${text.slice(0, end)}… (${(text.length - end).toLocaleString('en-US')} more characters not shown)`;
}
/**
 * Text whose lines the runner shows, never obeys. It reads a line that starts with "::" (after
 * white space, as .NET's TrimStart counts it: NEL included) as a command, and "##[" anywhere in a
 * line as an old-style one; a zero-width space between the two characters keeps them readable and
 * inert. For output that is meant to have several lines, such as the command's report.
 */
function inertLines(text) {
    return text.replace(/^([\s\u0085]*):(?=:)/gm, '$1:\u200b').replace(/#(?=#\[)/g, '#\u200b');
}
/**
 * A message as one line of the Actions log: line breaks folded, so that API text cannot start a
 * line of its own, and inert as above. The engine's own messages are single lines.
 */
function inertLogLine(message) {
    return inertLines(message.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ⏎ '));
}
// ---- the search ------------------------------------------------------------------------------
const BASE = 31;
/** The gram length: a window of SECRET_RUN is met by reading every (SECRET_RUN - GRAM + 1)th gram. */
const GRAM = 4;
/** Layers of escapes undone: %2541 is %41 once undone, A twice. */
const MAX_UNESCAPES = 3;
/** ASCII letters in lower case: a secret echoed in another case still gives it away. */
function fold(code) {
    return code >= 65 && code <= 90 ? code + 32 : code;
}
function foldText(text) {
    return text.replace(/[A-Z]+/g, letters => letters.toLowerCase());
}
/** The hash of the folded `q` characters of `text` at `at`. */
function gramAt(text, at, q) {
    let hash = 0;
    for (let i = at; i < at + q; i += 1)
        hash = (Math.imul(hash, BASE) + fold(text.charCodeAt(i))) | 0;
    return hash;
}
/** Every form a secret is searched in, with the run of it that gives it away. */
function searchedForms(secret) {
    if (secret.length < SECRET_RUN)
        return [{ form: secret, run: secret.length }];
    return [
        { form: secret, run: SECRET_RUN },
        ...base64Forms(secret).map(form => ({ form, run: SECRET_RUN })),
        // two hex digits a character: the same run of the secret
        { form: hex(secret), run: 2 * SECRET_RUN }
    ];
}
function windowsOf(secrets) {
    const byLength = new Map();
    for (const secret of secrets) {
        for (const { form, run } of searchedForms(secret)) {
            let windows = byLength.get(run);
            if (!windows) {
                const q = Math.min(GRAM, run);
                windows = {
                    length: run,
                    q,
                    grams: new Set(),
                    filter: new Uint8Array(1 << 16),
                    texts: new Map()
                };
                byLength.set(run, windows);
            }
            const all = [];
            for (let i = 0; i + run <= form.length; i += 1)
                all.push(foldText(form.slice(i, i + run)));
            // A window of one repeated character (00000000) says little of the secret, and alone would
            // hide every such run in the text (run_00000000000000000001): it counts only next to one
            // that tells, unless the secret has no other.
            const repeated = (window) => /^(.)\1*$/s.test(window);
            const anyTelling = all.some(window => !repeated(window));
            for (const window of all) {
                const telling = !anyTelling || !repeated(window);
                windows.texts.set(window, telling || (windows.texts.get(window) ?? false));
                for (let i = 0; i + windows.q <= window.length; i += 1) {
                    const gram = gramAt(window, i, windows.q);
                    windows.grams.add(gram);
                    windows.filter[gram & 0xffff] = 1;
                }
            }
        }
    }
    return [...byLength.values()];
}
/** Adds the spans of the original text where the view holds a window. */
function search(view, windows, spans) {
    const { text, from, to } = view;
    const { length, q, grams, filter, texts } = windows;
    const stride = length - q + 1;
    for (let at = 0; at + q <= text.length; at += stride) {
        const gram = gramAt(text, at, q);
        if (filter[gram & 0xffff] === 0 || !grams.has(gram))
            continue;
        // the windows that would hold this gram
        const last = Math.min(at, text.length - length);
        for (let start = Math.max(0, at - stride + 1); start <= last; start += 1) {
            const telling = texts.get(foldText(text.slice(start, start + length)));
            if (telling === undefined)
                continue;
            spans.push(from && to
                ? [from[start], to[start + length - 1], telling]
                : [start, start + length, telling]);
        }
    }
}
/** The escapes that spell a character: URL, JSON and JavaScript, HTML. */
const ESCAPE = /%([0-9a-f]{2})|\\u([0-9a-f]{4})|\\x([0-9a-f]{2})|&#x([0-9a-f]{1,6});?|&#(\d{1,7});?|\\(["\\/])/gi;
/** The view with one layer of escapes undone; undefined when it has none. */
function unescaped(view) {
    const { text } = view;
    if (!/[%\\&]/.test(text))
        return undefined;
    // an escape spells at most two UTF-16 units, in at least two characters: never longer
    const from = new Int32Array(text.length);
    const to = new Int32Array(text.length);
    const pieces = [];
    let length = 0;
    let last = 0;
    const span = (start, end) => {
        from[length] = view.from ? view.from[start] : start;
        to[length] = view.to ? view.to[end - 1] : end;
        length += 1;
    };
    const keep = (start, end) => {
        pieces.push(text.slice(start, end));
        for (let i = start; i < end; i += 1)
            span(i, i + 1);
    };
    ESCAPE.lastIndex = 0;
    for (let match = ESCAPE.exec(text); match; match = ESCAPE.exec(text)) {
        const [whole, pct, u, x, hexRef, decRef, plain] = match;
        const code = plain !== undefined
            ? plain.charCodeAt(0)
            : parseInt((pct ?? u ?? x ?? hexRef ?? decRef), decRef !== undefined ? 10 : 16);
        if (code > 0x10ffff)
            continue;
        keep(last, match.index);
        const char = String.fromCodePoint(code);
        pieces.push(char);
        last = match.index + whole.length;
        for (let i = 0; i < char.length; i += 1)
            span(match.index, last);
    }
    if (last === 0)
        return undefined;
    keep(last, text.length);
    return { text: pieces.join(''), from, to };
}
/**
 * The spans in order, overlapping and touching ones as one; a group of spans none of which tells
 * on its own is dropped.
 */
function merged(spans) {
    spans.sort((a, b) => a[0] - b[0]);
    const groups = [];
    let current;
    for (const [start, end, telling] of spans) {
        if (current && start <= current[1]) {
            current[1] = Math.max(current[1], end);
            current[2] ||= telling;
            continue;
        }
        if (current?.[2])
            groups.push([current[0], current[1]]);
        current = [start, end, telling];
    }
    if (current?.[2])
        groups.push([current[0], current[1]]);
    return groups;
}
/** The text with each span, in order and apart, replaced by ***. */
function cover(text, spans) {
    let out = '';
    let done = 0;
    for (const [start, end] of spans) {
        out += `${text.slice(done, start)}***`;
        done = end;
    }
    return out + text.slice(done);
}
// ---- the forms -------------------------------------------------------------------------------
/**
 * The secret's base64 inside a longer blob, which may put its first byte at any of three
 * alignments: for each, in both alphabets, the characters that depend on the secret's bytes alone.
 */
function base64Forms(secret) {
    const bytes = Buffer.from(secret, 'utf8');
    const forms = [];
    for (const align of [0, 1, 2]) {
        const padded = Buffer.concat([Buffer.alloc(align), bytes]);
        // the leading characters hold bits of the bytes before; the last one, of the byte after
        const head = [0, 2, 3][align];
        const tail = padded.length % 3 === 0 ? 0 : 1;
        for (const alphabet of ['base64', 'base64url']) {
            const text = padded.toString(alphabet).replace(/=+$/, '');
            forms.push(text.slice(head, text.length - tail));
        }
    }
    return forms;
}
function hex(secret) {
    return Buffer.from(secret, 'utf8').toString('hex');
}
function percentEncoded(secret, letters) {
    const text = [...Buffer.from(secret, 'utf8')]
        .map(byte => `%${byte.toString(16).padStart(2, '0')}`)
        .join('');
    return letters === 'upper' ? text.toUpperCase() : text;
}

;// CONCATENATED MODULE: ./src/adaline/backoff.ts
/**
 * How long the transport waits before another attempt, and what the API's Retry-After says: pure
 * functions of the attempt count, the answer's words, the time left and a random draw.
 */
/** A 429 is never tried again sooner than this, whatever the server or the jitter says. */
const THROTTLE_FLOOR_MS = 1_000;
/** After a 5xx or a network error: full jitter over an exponential window, `base` · 2^(n−1) up to `max`. */
function backoffMs(failures, random, baseDelayMs, maxDelayMs) {
    return random() * exponentialWindowMs(failures, baseDelayMs, maxDelayMs);
}
/**
 * The wait after a 429: at least the Retry-After (when given) and never under THROTTLE_FLOOR_MS,
 * plus full jitter over the exponential window, so that jobs throttled together come back apart.
 * The jitter is cut to what the deadline leaves; undefined when even the least wait would reach
 * past the deadline (the request then gives up).
 */
function throttleDelayMs(input) {
    const least = Math.max(THROTTLE_FLOOR_MS, input.retryAfterMs ?? 0);
    if (least >= input.remainingMs)
        return undefined;
    const window = exponentialWindowMs(input.throttles, input.baseDelayMs, input.maxDelayMs);
    return least + input.random() * Math.min(window, input.remainingMs - least);
}
function exponentialWindowMs(n, baseDelayMs, maxDelayMs) {
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(n - 1, 30));
}
// delta-seconds, and the three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7):
// IMF-fixdate, the obsolete RFC 850 form and asctime (which is in GMT but does not say so)
const DELTA_SECONDS = /^\d+$/;
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;
/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or not one of those. */
function retryAfter(value, now = Date.now()) {
    const text = value?.trim() ?? '';
    if (DELTA_SECONDS.test(text))
        return Number(text) * 1000;
    let date = NaN;
    if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text))
        date = Date.parse(text);
    else if (ASCTIME_DATE.test(text))
        date = Date.parse(`${text} GMT`);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

;// CONCATENATED MODULE: ./src/adaline/body.ts
/**
 * Reads an answer's body within a cap, counted on the wire and again after decoding (gzip,
 * deflate, br), so that no answer (a compression bomb, a body without end) can exhaust the
 * runner's memory. node-fetch's `size` option counts decoded bytes only, and its own decoding
 * cannot be watched on the wire, so the transport asks for the raw body and decodes it here with
 * node:zlib.
 */


/** 16 MiB: a page of 200 evaluations is well under 1 MiB, so no real answer comes near it. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** The content codings read, as `accept-encoding` offers them. */
const ACCEPTED_ENCODINGS = 'gzip, deflate, br';
/** An answer whose body passed the cap: it will not pass on another try. */
class BodyTooLarge extends Error {
    what;
    constructor(
    /** what passed the cap, e.g. "its Content-Length (20 MiB)" */
    what) {
        super(`${what} is over the ${formatBytes(MAX_BODY_BYTES)} an answer may have`);
        this.what = what;
        this.name = 'BodyTooLarge';
    }
}
/** An answer whose body cannot be read as sent: an unknown coding, or one that does not decode. */
class BodyUndecodable extends Error {
    constructor(message) {
        super(message);
        this.name = 'BodyUndecodable';
    }
}
/** The body stopped before its end: the connection was cut, reset or timed out mid-body. */
class BodyCut extends Error {
    error;
    constructor(
    /** what the stream failed with: a premature close, a reset, an abort at the timeout */
    error) {
        super(`its body was cut off (${error?.code ?? 'the stream failed'})`);
        this.error = error;
        this.name = 'BodyCut';
    }
}
/**
 * The decoded body, at most `maxBytes` on the wire and after decoding. A Content-Length over the
 * cap is refused before a byte is read; a body that passes it is cut off there.
 */
async function readBody(answer, maxBytes = MAX_BODY_BYTES) {
    const { body } = answer;
    if (!body)
        return Buffer.alloc(0);
    const declared = Number(answer.headers.get('content-length') ?? '');
    if (declared > maxBytes) {
        body.destroy();
        throw new BodyTooLarge(`its Content-Length (${formatBytes(declared)})`);
    }
    let decoding;
    try {
        decoding = decoderFor(answer.headers.get('content-encoding'));
    }
    catch (error) {
        body.destroy();
        throw error;
    }
    let wireBytes = 0;
    const wire = new external_node_stream_.Transform({
        transform(chunk, _encoding, done) {
            wireBytes += chunk.length;
            if (wireBytes > maxBytes)
                done(new BodyTooLarge('its body on the wire'));
            else
                done(null, chunk);
        }
    });
    // pipeline destroys every stage when one fails or the reader stops, which closes the connection
    const decoded = decoding
        ? (0,external_node_stream_.pipeline)(body, wire, decoding.decoder, () => undefined)
        : (0,external_node_stream_.pipeline)(body, wire, () => undefined);
    const chunks = [];
    let size = 0;
    try {
        for await (const chunk of decoded) {
            size += chunk.length;
            if (size > maxBytes)
                throw new BodyTooLarge(`its body decoded (${decoding?.coding ?? 'not encoded'})`);
            chunks.push(chunk);
        }
    }
    catch (error) {
        decoded.destroy();
        body.destroy();
        if (error instanceof BodyTooLarge)
            throw error;
        const code = error?.code ?? '';
        // zlib's own errors: the bytes arrived but are not what their coding says
        if (code.startsWith('Z_') || code === 'ERR_BROTLI_DECOMPRESSION_FAILED')
            throw new BodyUndecodable(`its body does not decode as ${decoding?.coding} (${error.message})`);
        throw new BodyCut(error);
    }
    return Buffer.concat(chunks, size);
}
/**
 * A decoder for the answer's content-encoding, or none for an unencoded body. One coding at most:
 * layered codings are no real API's answer, and each layer would multiply a bomb. The header is
 * never quoted: it came from the server, and could hold anything, the key included.
 */
function decoderFor(header) {
    const codings = (header ?? '')
        .split(',')
        .map(coding => coding.trim().toLowerCase())
        .filter(coding => coding !== '' && coding !== 'identity');
    if (codings.length === 0)
        return undefined;
    const [coding] = codings;
    if (codings.length === 1) {
        if (coding === 'gzip' || coding === 'x-gzip')
            return { coding: 'gzip', decoder: external_node_zlib_default().createGunzip() };
        // HTTP's deflate is the zlib format (RFC 9110 §8.4.1.2)
        if (coding === 'deflate' || coding === 'x-deflate')
            return { coding: 'deflate', decoder: external_node_zlib_default().createInflate() };
        if (coding === 'br')
            return { coding: 'br', decoder: external_node_zlib_default().createBrotliDecompress() };
    }
    throw new BodyUndecodable(`its body has a content-encoding the action does not read (it asks for ${ACCEPTED_ENCODINGS} only)`);
}
/** 16 MiB, 20.5 MiB, 900 bytes. */
function formatBytes(bytes) {
    const mib = bytes / (1024 * 1024);
    if (mib >= 1)
        return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
    return `${bytes} bytes`;
}

// EXTERNAL MODULE: ./src/adaline/schema.ts
var schema = __nccwpck_require__(4455);
;// CONCATENATED MODULE: ./src/adaline/http.ts








const RETRYABLE_STATUSES = [408, 429, 500, 502, 503, 504];
/**
 * Refusals that surely did not create anything: a start answered so is not "outcome unknown".
 * Any other answer to a start but a clean 2xx (a 3xx, a 5xx, a 405, a cut body) may have billed one.
 */
const CLEAR_REFUSALS = [400, 401, 403, 404, 408, 409, 422, 429];
const MAX_REDIRECTS = 5;
/** API text quoted in an error is cut to this many characters: a 5 MB message is no log line. */
const MAX_QUOTED_CHARS = 500;
/** An API call that failed for good: status (if any), the API's code and message, the endpoint. */
class ApiError extends Error {
    endpoint;
    status;
    code;
    ambiguous;
    transient;
    constructor(message, endpoint, status, code, 
    /** a request that is not idempotent may have taken effect before it failed */
    ambiguous = false, 
    /** the failure could pass by trying again later: retries ran out on a retryable one */
    transient = false) {
        super(message);
        this.endpoint = endpoint;
        this.status = status;
        this.code = code;
        this.ambiguous = ambiguous;
        this.transient = transient;
        this.name = 'ApiError';
    }
}
function createHttp(options) {
    const { baseUrl, apiKey, timeoutMs = 30_000, maxAttempts = 5, baseDelayMs = 1_000, maxDelayMs = 60_000, deadlineMs: clientDeadlineMs = 300_000, governor, random = Math.random, sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms)), now = Date.now } = options;
    const root = baseUrl.href.replace(/\/+$/, '');
    // the API's words may echo the request, key included, and every face prints an ApiError
    const secrets = new Secrets();
    secrets.add(apiKey);
    let route;
    return async function request(spec) {
        const endpoint = `${spec.method} ${spec.path}`;
        const url = new URL(root + spec.path);
        for (const [key, value] of Object.entries(spec.query ?? {})) {
            if (value !== undefined)
                url.searchParams.set(key, String(value));
        }
        const started = now();
        const deadlineMs = Math.min(clientDeadlineMs, spec.deadlineMs ?? Infinity);
        const deadline = `the ${deadlineMs / 1000} s a request may take`;
        const via = await (route ??= proxyRoute(baseUrl));
        let failures = 0;
        let throttles = 0;
        let last;
        for (let attempt = 1;; attempt += 1) {
            const attempts = `${attempt - 1} attempt${attempt - 1 > 1 ? 's' : ''}`;
            const turnAt = governor ? await governor.turn(started + deadlineMs) : now();
            if (turnAt === undefined) {
                const why = `: the rate limit leaves no turn within ${deadline}`;
                if (last)
                    throw giveUp(last.error, attempts, why);
                throw new ApiError(`${endpoint} was not sent${why}. Adaline's rate limit for the workspace was reached; try again later.`, endpoint, undefined, undefined, false, true);
            }
            // an attempt gets the time left before the deadline, if that is shorter than its timeout
            const left = deadlineMs - (now() - started);
            const outcome = await attemptOnce(spec, url, endpoint, {
                signal: AbortSignal.timeout(Math.max(1, Math.ceil(Math.min(timeoutMs, left)))),
                turnAt,
                via
            });
            if (outcome.ok)
                return outcome.value;
            const failure = (last = outcome.failure);
            if (spec.idempotent === false && !failure.unsent) {
                const { message, status, code } = failure.error;
                throw new ApiError(message, endpoint, status, code, true);
            }
            if (!failure.retry)
                throw failure.error;
            const remaining = deadlineMs - (now() - started);
            const tried = `${attempt} attempt${attempt > 1 ? 's' : ''}`;
            let delayMs;
            if (failure.throttled) {
                // a 429 is "not served yet": tried again for as long as the deadline allows
                throttles += 1;
                delayMs = throttleDelayMs({
                    throttles,
                    retryAfterMs: failure.retryAfterMs,
                    remainingMs: remaining,
                    random,
                    baseDelayMs,
                    maxDelayMs
                });
            }
            else {
                failures += 1;
                if (failures >= maxAttempts)
                    throw giveUp(failure.error, tried);
                // a Retry-After is the server's word: waited in full when it fits in the deadline
                delayMs = failure.retryAfterMs ?? backoffMs(failures, random, baseDelayMs, maxDelayMs);
                if (delayMs >= remaining)
                    delayMs = undefined;
            }
            if (delayMs === undefined) {
                if (failure.retryAfterMs !== undefined && failure.retryAfterMs >= remaining) {
                    const asked = Math.ceil(failure.retryAfterMs / 1000);
                    throw giveUp(failure.error, tried, `: Retry-After asks to wait ${asked} s, past ${deadline}`);
                }
                throw giveUp(failure.error, tried, `: another attempt would end past ${deadline}`);
            }
            options.onRetry?.({ endpoint, attempt, delayMs, reason: failure.reason });
            await sleep(delayMs);
        }
    };
    /** One attempt: an answer, or the failure and whether another attempt may help. */
    async function attemptOnce(spec, url, endpoint, { signal, turnAt, via }) {
        let sent;
        try {
            sent = await send(url, spec.method, { apiKey, signal, endpoint, route: via, body: spec.body });
        }
        catch (error) {
            return { ok: false, failure: sendFailure(error, endpoint, via?.proxy) };
        }
        const { response, proxyRefused } = sent;
        if (proxyRefused !== undefined) {
            rawBody(response)?.destroy();
            return {
                ok: false,
                failure: {
                    error: proxyError(proxyRefused, via.proxy, url, endpoint),
                    reason: `the proxy answered ${proxyRefused}`,
                    retry: RETRYABLE_STATUSES.includes(proxyRefused),
                    // a refused tunnel never reached the API
                    unsent: true
                }
            };
        }
        governor?.observe(turnAt, response);
        const { status } = response;
        if (response.ok) {
            try {
                return { ok: true, value: await parseBody(response, spec, endpoint, secrets) };
            }
            catch (error) {
                return { ok: false, failure: bodyFailure(error, endpoint, status, secrets) };
            }
        }
        const error = await toApiError(response, spec, endpoint, secrets);
        if (status === 429)
            options.onThrottle?.();
        return {
            ok: false,
            failure: {
                error,
                reason: `HTTP ${status}`,
                retry: RETRYABLE_STATUSES.includes(status),
                unsent: CLEAR_REFUSALS.includes(status),
                throttled: status === 429,
                retryAfterMs: retryAfter(response.headers.get('retry-after'))
            }
        };
    }
}
function giveUp(error, attempts, why = '') {
    return new ApiError(`${error.message} (gave up after ${attempts}${why})`, error.endpoint, error.status, error.code, false, true);
}
/** A request that got no answer: the network, the timeout, or a redirect refused. */
function sendFailure(error, endpoint, proxy) {
    if (error instanceof ApiError)
        return { error, reason: error.message, retry: false, unsent: false };
    const failure = networkFailure(error, proxy);
    if (!failure)
        throw error;
    return {
        error: new ApiError(`${endpoint} failed: ${failure.reason}. ${failure.hint}`, endpoint),
        reason: failure.reason,
        retry: failure.transient,
        unsent: failure.unsent
    };
}
/** A 2xx whose body could not be used: cut off, too large, not decodable, not JSON, wrong shape. */
function bodyFailure(error, endpoint, status, secrets) {
    const answered = `${endpoint} answered ${status}, but`;
    if (error instanceof ApiError)
        return { error, reason: error.message, retry: false, unsent: false };
    if (error instanceof BodyTooLarge || error instanceof BodyUndecodable) {
        // it will be the same on another try
        const hint = error instanceof BodyTooLarge
            ? "Adaline's answers are far smaller: check base-url."
            : 'Check base-url.';
        return {
            error: new ApiError(`${answered} ${error.message}. ${hint}`, endpoint, status),
            reason: error.message,
            retry: false,
            unsent: false
        };
    }
    if (error instanceof BodyCut) {
        const timedOut = networkFailure(error.error)?.reason === 'no answer in time';
        const reason = timedOut ? 'no complete answer in time' : error.message;
        return {
            error: new ApiError(`${answered} ${secrets.redact(reason)}. Check base-url and the runner's network.`, endpoint, status),
            // a page cut mid-body is a reset by another name: it may pass
            reason: `an answer cut off mid-body`,
            retry: true,
            unsent: false
        };
    }
    throw error;
}
/**
 * The route through the runner's proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as self-hosted
 * runners set them), or undefined for a direct connection. HTTPS goes through a CONNECT tunnel, so
 * the proxy never sees the key; a loopback API is never proxied, or an http:// key would reach the
 * proxy in clear. The agents are loaded only when a proxy applies: most runners have none.
 */
async function proxyRoute(target) {
    if (isLoopback(target.hostname))
        return undefined;
    const proxy = getProxyForUrl(target);
    if (!proxy)
        return undefined;
    // only loopback may be http:// (inputs/settings.ts), and loopback is never proxied: what is left is https
    const { HttpsProxyAgent } = await __nccwpck_require__.e(/* import() */ 659).then(__nccwpck_require__.bind(__nccwpck_require__, 7659));
    return { proxy: new URL(proxy).origin, agent: () => new HttpsProxyAgent(proxy) };
}
/**
 * One attempt. A GET follows redirects within the API's origin only, so the key never leaves it,
 * and no target the server named is ever printed (it could hold anything, the key included). A
 * POST follows none: a redirected start, POSTed again, would start and bill a second evaluation.
 */
async function send(url, method, options) {
    const { apiKey, signal, endpoint, route, body } = options;
    let target = url;
    for (let hop = 0;; hop += 1) {
        const agent = route?.agent();
        let proxyRefused;
        // https-proxy-agent hands the proxy's refusal on as if the API had answered it
        agent?.once('proxyConnect', ({ statusCode }) => {
            if (statusCode !== 200)
                proxyRefused = statusCode;
        });
        const init = {
            method,
            redirect: 'manual',
            // the raw body, decoded in body.ts, where both its size on the wire and decoded are capped
            compress: false,
            agent,
            signal,
            headers: {
                authorization: `Bearer ${apiKey}`,
                accept: 'application/json',
                'accept-encoding': ACCEPTED_ENCODINGS,
                'user-agent': 'adaline-evals-action',
                ...(body === undefined ? {} : { 'content-type': 'application/json' })
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
        };
        const response = await fetch(target.href, init);
        if (proxyRefused !== undefined)
            return { response, proxyRefused };
        const redirect = response.status >= 300 && response.status < 400 && response.status !== 304;
        const location = response.headers.get('location');
        if (!redirect || !location || method !== 'GET')
            return { response };
        rawBody(response)?.destroy();
        let next;
        try {
            next = new URL(location, target);
        }
        catch {
            // not a URL: no place to follow
        }
        if (next?.origin !== url.origin) {
            throw new ApiError(`${endpoint} answered ${response.status}, a redirect to another origin or to no valid address; not following it with the API key. Check base-url.`, endpoint, response.status);
        }
        if (hop >= MAX_REDIRECTS)
            throw new ApiError(`${endpoint} redirected too many times`, endpoint, response.status);
        target = next;
    }
}
/** node-fetch's body, as node:stream gives it (node-fetch v3 hands on a PassThrough). */
function rawBody(response) {
    return response.body;
}
/**
 * The answer as the schema knows it. The schema runs before anything walks the answer: it keeps
 * only the fields the action knows, so an unknown field nested 100,000 deep is dropped before the
 * key's redaction walks the rest, or an output stringifies it.
 */
async function parseBody(response, spec, endpoint, secrets) {
    const text = (await readBody({ headers: response.headers, body: rawBody(response) }, MAX_BODY_BYTES)).toString('utf8');
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch {
        throw new ApiError(`${endpoint} answered ${response.status} with a body that is not JSON`, endpoint, response.status);
    }
    const unexpected = (problem) => new ApiError(
    // the problem quotes the value received, which may be the key, or megabytes of text
    `${endpoint} answered in an unexpected shape: ${clip(secrets.redact(problem))}`, endpoint, response.status);
    const checked = (0,schema/* checkShape */.eA)(spec.schema, parsed, 'body');
    if (!checked.ok)
        throw unexpected(checked.problem);
    if (!secrets.mightSpell(text))
        return checked.value;
    // an answer that echoes the key must not carry it into reports, outputs or error messages; and
    // what was redacted must still have its shape (a run ID that was the key is no run ID)
    const redacted = (0,schema/* checkShape */.eA)(spec.schema, secrets.redactValue(checked.value), 'body');
    if (!redacted.ok)
        throw unexpected(redacted.problem);
    return redacted.value;
}
async function toApiError(response, spec, endpoint, secrets) {
    // the status says what matters: an error body too long or broken to read is left unread
    const text = await readBody({ headers: response.headers, body: rawBody(response) }).then(buffer => buffer.toString('utf8'), () => '');
    let code;
    let message;
    try {
        const checked = (0,schema/* checkShape */.eA)(schema/* errorBodySchema */.ut, JSON.parse(text), 'error');
        if (checked.ok) {
            const error = checked.value.error;
            if (typeof error === 'string')
                message = error;
            else
                ({ code, message } = error);
        }
    }
    catch {
        // not JSON: the status says enough
    }
    // the API's words may echo the request, key included, and every face prints this message;
    // redacted before they are clipped, so that no cut leaves part of the key
    code = code && clip(secrets.redact(code), 100);
    const said = clip(secrets.redact([code, message].filter(Boolean).join(': ')));
    const head = `${endpoint} answered ${response.status}${said ? ` ${said}` : ''}`;
    return new ApiError(`${head}${/[.…]$/.test(said) ? '' : '.'} ${hint(response.status, spec)}`.trim(), endpoint, response.status, code);
}
/** Text cut to `max` characters with an ellipsis, never inside a surrogate pair. */
function clip(text, max = MAX_QUOTED_CHARS) {
    if (text.length <= max)
        return text;
    const cut = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
    return `${text.slice(0, cut)}…`;
}
function hint(status, spec) {
    if (status === 401)
        return 'The api-key input is missing or wrong: use a workspace API key from Adaline.';
    if (status === 403)
        return "The api-key input has no access to this: check the key's workspace.";
    if (status === 404)
        return spec.notFound ?? 'Not found: check base-url.';
    if (status === 429)
        return "Adaline's rate limit for the workspace was reached; try again later.";
    if (status >= 500)
        return 'Adaline had a server error; try again later.';
    if (status >= 300 && status < 400)
        return spec.method === 'POST'
            ? 'A POST is never sent again to where a redirect points. Check base-url.'
            : 'Check base-url.';
    return '';
}
/** The proxy answered a CONNECT with a refusal: say so, rather than blame the API. */
function proxyError(status, proxy, url, endpoint) {
    const what = `${endpoint} failed: the proxy ${proxy} answered ${status} instead of opening a tunnel to ${url.host}.`;
    const todo = status === 407
        ? 'The proxy wants credentials: give them in HTTPS_PROXY (http://user:password@host:port).'
        : 'Check HTTPS_PROXY and NO_PROXY, and that the proxy lets the runner reach the API.';
    return new ApiError(`${what} ${todo}`, endpoint, status);
}
// Network failures that may pass; anything else (an untrusted certificate, an unknown host) won't.
const TRANSIENT_CODES = new Set([
    'ECONNRESET',
    'ECONNREFUSED',
    'ECONNABORTED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENETDOWN'
]);
/** Why a request failed on the network, if it did (as opposed to a bug in our code). */
function networkFailure(error, proxy) {
    const name = error?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
        return {
            reason: 'no answer in time',
            hint: "Check base-url and the runner's network.",
            transient: true,
            unsent: false
        };
    }
    if (!(error instanceof FetchError))
        return undefined;
    const code = error.code ?? '';
    if (/CERT|TLS|SSL/.test(code)) {
        return {
            reason: `TLS error ${code}`,
            hint: 'The server certificate is not trusted: check base-url, or give the CA with NODE_EXTRA_CA_CERTS.',
            transient: false,
            unsent: true
        };
    }
    // through a proxy, the only connection the runner makes is the one to the proxy
    const through = proxy ? ` through the proxy ${proxy}` : '';
    if (code === 'ENOTFOUND') {
        return {
            reason: `host not found (${code})${through}`,
            hint: proxy ? 'Check HTTPS_PROXY and base-url.' : 'Check base-url.',
            transient: false,
            unsent: true
        };
    }
    return {
        reason: `${code ? `network error ${code}` : `network error: ${error.message}`}${through}`,
        hint: proxy
            ? "Check HTTPS_PROXY and NO_PROXY, that the proxy is up, and the runner's network."
            : "Check base-url, the runner's network and its proxy settings.",
        transient: code === '' || TRANSIENT_CODES.has(code),
        // a refused connection never carried the request
        unsent: code === 'ECONNREFUSED'
    };
}

;// CONCATENATED MODULE: external "node:fs/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
;// CONCATENATED MODULE: ./src/files.ts
/**
 * Writes the report files both faces write (JUnit, JSON, metrics): each relative to the working
 * directory, its folder created, its text redacted first. A file that cannot be written is told
 * back with the input that named it, for the face to report its own way; the others are written.
 */


/** Writes each file after `redact`ing its text; answers those that could not be written. */
async function writeTextFiles(files, redact) {
    const failures = [];
    for (const { input, path, text } of files) {
        const target = (0,external_node_path_.resolve)(path);
        try {
            await (0,promises_namespaceObject.mkdir)((0,external_node_path_.dirname)(target), { recursive: true });
            await (0,promises_namespaceObject.writeFile)(target, redact(text), 'utf8');
        }
        catch (error) {
            failures.push({ input, path, problem: describeWriteError(error) });
        }
    }
    return failures;
}
const BY_CODE = {
    // mkdir answers EEXIST when a folder on the path is a file
    EEXIST: 'a part of its path is a file, not a folder',
    ENOTDIR: 'a part of its path is a file, not a folder',
    EISDIR: 'it is a folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space is left on the device',
    EDQUOT: 'the disk quota is used up',
    ENAMETOOLONG: 'the path is too long'
};
/** A file system error in words, without the stack; the code where it has no words here. */
function describeWriteError(error) {
    const code = error?.code;
    if (code !== undefined && BY_CODE[code])
        return `${BY_CODE[code]} (${code})`;
    return error instanceof Error ? error.message : String(error);
}

// EXTERNAL MODULE: ./src/format.ts
var format = __nccwpck_require__(6264);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(3024);
;// CONCATENATED MODULE: ./src/github/event.ts
/**
 * What the triggering event says about superseded evaluations: did a new commit (or a force-push)
 * arrive, and when at the earliest. Pure: the GitHub API's answers come in as `Lookups`.
 */


/**
 * Reads the event the runner describes in GITHUB_EVENT_NAME and GITHUB_EVENT_PATH. A payload that
 * cannot be read is not an error here: only cancelling and the comment need it, and both then
 * do nothing and say why.
 */
function readEvent(env) {
    const name = env.GITHUB_EVENT_NAME ?? '';
    const path = env.GITHUB_EVENT_PATH;
    if (!path)
        return { name, payload: {} };
    try {
        const payload = JSON.parse((0,external_node_fs_.readFileSync)(path, 'utf8'));
        return { name, payload: isRecord(payload) ? payload : {} };
    }
    catch (error) {
        const reason = error.message.split('\n')[0];
        return {
            name,
            payload: {},
            unreadable: `the event payload at GITHUB_EVENT_PATH (${path}) cannot be read: ${reason}`
        };
    }
}
/**
 * How far ahead of this run's own clock an event's time may be and still be believed: the clocks
 * of GitHub and of the runner disagree by seconds, a forged or misread time by years.
 */
const CLOCK_SKEW_MS = 5 * 60_000;
const SYNC_EVENTS = ['pull_request', 'pull_request_target'];
function isSynchronize(event) {
    return SYNC_EVENTS.includes(event.name) && event.payload.action === 'synchronize';
}
/** The GitHub API questions the decision needs answered; none for most events. */
function lookupsNeeded(mode, event) {
    if (mode === 'never' || !isSynchronize(event))
        return {};
    const repository = record(event.payload.repository);
    const owner = event_text(record(repository.owner).login);
    const repo = event_text(repository.name);
    const base = event_text(event.payload.before);
    const head = event_text(event.payload.after) ?? event_text(record(record(event.payload.pull_request).head).sha);
    if (!owner || !repo || !head)
        return {};
    const needed = { headCommit: { owner, repo, sha: head } };
    if (mode === 'force-push' && base)
        needed.compare = { owner, repo, base, head };
    return needed;
}
/**
 * Whether this run cancels superseded evaluations, and the cutoff: never later than the moment
 * of the push, so the earliest time known for the new head, and never later than `now` (this
 * run's clock, Unix ms) plus CLOCK_SKEW_MS. When in doubt, cancel nothing.
 */
function decideSupersede(mode, event, lookups, now) {
    if (mode === 'never')
        return { act: false, reason: 'cancel-superseded is never' };
    if (event.unreadable)
        return { act: false, reason: event.unreadable };
    if (event.name === 'push')
        return decidePush(mode, event.payload, now);
    if (isSynchronize(event))
        return decideSynchronize(mode, event.payload, lookups, now);
    const what = event.name ? `a ${event.name}${actionOf(event)} event` : 'this event';
    return {
        act: false,
        reason: `${what} brings no new commit; only push and pull_request synchronize do`
    };
}
function decidePush(mode, payload, now) {
    if (payload.deleted === true)
        return { act: false, reason: 'the push deleted a ref' };
    if (mode === 'force-push' && payload.forced !== true) {
        return { act: false, reason: 'the push was not a force-push (cancel-superseded: force-push)' };
    }
    const times = [
        dated('head_commit.timestamp', record(payload.head_commit).timestamp, isoTime),
        dated('repository.pushed_at', record(payload.repository).pushed_at, pushedAt)
    ];
    const what = payload.forced === true ? 'a force-push' : 'a push';
    return withCutoff(what, times, now, 'the push payload has neither head_commit.timestamp nor repository.pushed_at');
}
function decideSynchronize(mode, payload, lookups, now) {
    let what = 'a new commit on the pull request';
    if (mode === 'force-push') {
        const compare = lookups.compare;
        if (!compare) {
            return {
                act: false,
                reason: 'cannot tell whether the pull request was force-pushed: the event lacks before/after'
            };
        }
        if ('error' in compare) {
            return {
                act: false,
                reason: `cannot tell whether the pull request was force-pushed: ${compare.error}`
            };
        }
        if (compare.value === 'ahead' || compare.value === 'identical') {
            return {
                act: false,
                reason: 'the pull request was not force-pushed (its old head is an ancestor of the new one)'
            };
        }
        if (compare.value !== 'behind' && compare.value !== 'diverged') {
            // the type says this cannot be; a value from elsewhere must not count as a force-push
            return {
                act: false,
                reason: `cannot tell whether the pull request was force-pushed: GitHub's compare status is ${JSON.stringify(compare.value)}`
            };
        }
        what = 'a force-push to the pull request';
    }
    const dates = lookups.headCommitDates;
    const times = [
        ...(dates && 'value' in dates ? dates.value : []),
        dated('pull_request.updated_at', record(payload.pull_request).updated_at, isoTime)
    ];
    return withCutoff(what, times, now, 'neither the head commit date nor pull_request.updated_at is known');
}
/**
 * The earliest of the times, when every one given is a believable time: a time that cannot be
 * read, or a cutoff later than the run's clock allows, cancels nothing and names its field.
 */
function withCutoff(what, times, now, unknown) {
    const given = times.filter((time) => time !== undefined);
    if (given.length === 0)
        return { act: false, reason: `cannot date ${what}: ${unknown}` };
    const unreadable = given.filter(({ time }) => time === undefined || !(0,format/* isDateTime */.Ar)(time));
    if (unreadable.length > 0) {
        const fields = unreadable.map(({ field, time, given: value }) => `${field} ${time === undefined ? `${event_clip(JSON.stringify(value) ?? String(value))} is not a time` : `(${(0,format/* formatTime */.fU)(time)}) is not a believable time`}`);
        return { act: false, reason: `cannot date ${what}: ${fields.join('; ')}` };
    }
    const known = given;
    const cutoff = Math.min(...known.map(({ time }) => time));
    if (cutoff > now + CLOCK_SKEW_MS) {
        const fields = known.map(({ field, time }) => `${field} ${(0,format/* formatTime */.fU)(time)}`).join(', ');
        return {
            act: false,
            reason: `the time of ${what} is not believable: ${fields} ${known.length > 1 ? 'are all' : 'is'} later than this run's clock (${(0,format/* formatTime */.fU)(now)}) plus ${CLOCK_SKEW_MS / 60_000} min`
        };
    }
    return {
        act: true,
        cutoff,
        reason: `${what}; evaluations submitted before ${(0,format/* formatTime */.fU)(cutoff)} are superseded`
    };
}
/** A field's time; undefined when the field is absent (null or missing), which is no claim at all. */
function dated(field, value, read) {
    if (value === undefined || value === null)
        return undefined;
    const time = read(value);
    return time === undefined ? { field, time, given: value } : { field, time };
}
function actionOf(event) {
    const action = event_text(event.payload.action);
    return action ? ` (${action})` : '';
}
/** A push payload's repository.pushed_at is Unix seconds; other payloads use ISO 8601. */
function pushedAt(value) {
    if (typeof value === 'number')
        return Number.isFinite(value) ? value * 1000 : undefined;
    return isoTime(value);
}
/** An ISO 8601 time as GitHub writes it (2026-11-20T10:00:00Z, with an offset, or with ms). */
function isoTime(value) {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value))
        return undefined;
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
}
function event_clip(value) {
    return value.length > 60 ? `${value.slice(0, 59)}…` : value;
}
function isRecord(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function record(value) {
    return isRecord(value) ? value : {};
}
function event_text(value) {
    return typeof value === 'string' && value.length > 0 ? value : undefined;
}

// EXTERNAL MODULE: ./src/judge/policy.ts
var policy = __nccwpck_require__(3481);
;// CONCATENATED MODULE: ./src/adaline/links.ts
/**
 * Links into Adaline's app from the `evaluation-url` template: Adaline documents no deep-link
 * format, so a team gives its own, with {promptId}, {runId} and {evaluatorId} placeholders.
 */
/** The placeholders a template may hold, each filled with the evaluation's ID, URL-encoded. */
const EVALUATION_URL_PLACEHOLDERS = ['promptId', 'runId', 'evaluatorId'];
/**
 * What is wrong with a template, or undefined when it is an http(s) URL whose only braces are the
 * known placeholders.
 */
function templateProblem(template) {
    const unknown = template
        .replace(/\{(promptId|runId|evaluatorId)\}/g, '')
        .match(/\{[^{}]*\}?|\}/)?.[0];
    if (unknown !== undefined)
        return `has "${unknown.slice(0, 40)}", which is not a placeholder; accepted: ${EVALUATION_URL_PLACEHOLDERS.map(p => `{${p}}`).join(', ')}`;
    let url;
    try {
        url = new URL(fillTemplate(template, { promptId: 'p', runId: 'r', evaluatorId: 'e' }));
    }
    catch {
        return 'is not a URL: give an https:// address with {promptId}, {runId} or {evaluatorId} placeholders, or leave it empty for no links';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
        return `uses ${url.protocol.replace(/:$/, '')}; give an https:// (or http://) address`;
    if (url.username || url.password)
        return 'must not carry credentials';
    return undefined;
}
/** The template with each placeholder replaced by its ID, URL-encoded. */
function fillTemplate(template, ids) {
    return template.replace(/\{(promptId|runId|evaluatorId)\}/g, (_, name) => encodeURIComponent(ids[name]));
}

;// CONCATENATED MODULE: ./src/inputs/settings.ts
/**
 * The action's inputs as one typed Settings object. Every validation message lives here, and each
 * names its input and says what is accepted. An absent or empty input takes its default here too,
 * because local runners do not apply action.yml's defaults.
 */







/** The inputs that name a report file, and the Settings field each fills. */
const REPORT_FILE_INPUTS = {
    'junit-file': 'junitFile',
    'report-file': 'reportFile',
    'metrics-file': 'metricsFile'
};
const DEFAULT_BASE_URL = 'https://api.adaline.ai/v2';
/**
 * The shortest api-key taken. Real keys are far longer (the fake API's are 41 characters); at 20,
 * a key split in two halves leaves each long enough (SECRET_RUN) to be found and redacted.
 */
const API_KEY_MIN = 20;
/** RFC 6750's b64token: what a bearer credential is made of. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** The action's naming: its inputs as action.yml spells them. */
const ACTION_NAMING = {
    nameOf: input => input,
    keyRequired: 'pass a workspace API key from a secret, e.g. api-key: ${{ secrets.ADALINE_API_KEY }}. On pull requests from forks secrets are empty.',
    wholeKey: 'Pass the whole key from a secret, e.g. api-key: ${{ secrets.ADALINE_API_KEY }}'
};
/**
 * A bad input: the message names the input and says what it accepts. `message` is worded for the
 * action; a face with other names asks `describe(itsNaming)`.
 */
class InputError extends Error {
    input;
    #detail;
    constructor(input, detail) {
        super(`Input ${input} ${typeof detail === 'string' ? detail : detail(ACTION_NAMING)}`);
        this.input = input;
        this.#detail = detail;
        this.name = 'InputError';
    }
    /** what is wrong and what is accepted, without the input's name, as the action words it */
    get detail() {
        return this.detailFor(ACTION_NAMING);
    }
    /** the input's name and what is wrong, as `naming` words them: `--wait is "soon"; accepted: …` */
    describe(naming) {
        return `${naming.nameOf(this.input)} ${this.detailFor(naming)}`;
    }
    detailFor(naming) {
        return typeof this.#detail === 'string' ? this.#detail : this.#detail(naming);
    }
}
/** Reads and checks every input; `getInput` returns '' for an absent input. */
async function readSettings(getInput, { now, mask }) {
    const read = (name) => getInput(name).trim();
    const apiKey = read('api-key');
    const githubToken = read('github-token') || undefined;
    // A value too short to be a key is refused unmasked: masked, its few characters would turn
    // every line that holds them into ***, this error's included. It is never printed.
    const tooShort = apiKey.length > 0 && apiKey.length < API_KEY_MIN;
    if (apiKey && !tooShort)
        mask(apiKey);
    if (githubToken)
        mask(githubToken);
    if (!apiKey) {
        throw new InputError('api-key', naming => `is required: ${naming.keyRequired}`);
    }
    if (/\s/.test(apiKey))
        throw new InputError('api-key', 'contains white space: pass the key alone, without "Bearer"');
    // A bearer credential is a b64token (RFC 6750): letters, digits and - . _ ~ + /, then = padding.
    // Nothing else can go in the Authorization header, and no escape (%, \, &, ") can then hide
    // part of the key from the redaction.
    if (tooShort || !BEARER_TOKEN.test(apiKey)) {
        throw new InputError('api-key', naming => `is not a workspace API key: a key is ${API_KEY_MIN} or more letters, digits and - . _ ~ + / characters (the value is not shown). ${naming.wholeKey}`);
    }
    try {
        return await readChecked(read, getInput, now, apiKey, githubToken);
    }
    catch (error) {
        // An error quotes the bad value; a secret pasted into the wrong input must not be quoted whole
        // or in part, where the runner's mask (exact matches only) would miss a prefix.
        const secrets = [apiKey, githubToken].filter((s) => Boolean(s));
        if (error instanceof InputError && quotesSecret(error.detail, secrets)) {
            throw new InputError(error.input, naming => `holds the ${naming.nameOf('api-key')} or ${naming.nameOf('github-token')} value, which is not shown here: check what is passed to it`);
        }
        throw error;
    }
}
/**
 * Whether text gives a secret away as redaction counts it: any SECRET_RUN characters of one in a
 * row, in any case or encoding.
 */
function quotesSecret(text, secrets) {
    const known = new Secrets();
    secrets.forEach(secret => known.add(secret));
    return known.holds(text);
}
async function readChecked(read, getInput, now, apiKey, githubToken) {
    const promptIds = [...new Set(list(read('prompt-id')))];
    if (promptIds.length === 0)
        throw new InputError('prompt-id', 'is required: give one or more prompt IDs, separated by commas or newlines');
    promptIds.forEach(id => checkId('prompt-id', id));
    const evaluatorId = read('evaluator-id') || undefined;
    if (evaluatorId)
        checkId('evaluator-id', evaluatorId);
    const datasetId = read('dataset-id') || undefined;
    if (datasetId)
        checkId('dataset-id', datasetId);
    const statuses = [...new Set(list(read('status')).map(s => s.toLowerCase()))];
    for (const status of statuses) {
        if (!schema/* EVALUATION_STATUSES */.co.includes(status)) {
            throw new InputError('status', `has "${settings_clip(status)}"; accepted: ${schema/* EVALUATION_STATUSES */.co.join(', ')} (several separated by commas), or empty for all`);
        }
    }
    const keepRunIds = new Set(list(read('keep-run-ids')));
    keepRunIds.forEach(id => checkId('keep-run-ids', id));
    const policy = await readPolicy(getInput('policy'));
    const files = readReportFiles(read);
    return {
        apiKey,
        promptIds,
        evaluatorId,
        datasetId,
        statuses: statuses,
        createdAfter: parseCreatedAfter(read('created-after'), now),
        policy,
        cancelSuperseded: oneOf('cancel-superseded', read('cancel-superseded') || 'never', [
            'never',
            'force-push',
            'new-commit'
        ]),
        keepRunIds,
        dryRun: parseBoolean('dry-run', read('dry-run'), false),
        failOnGate: parseBoolean('fail-on-gate', read('fail-on-gate'), true),
        baseUrl: parseBaseUrl(read('base-url') || DEFAULT_BASE_URL),
        githubToken,
        start: parseBoolean('start', read('start'), false),
        waitMs: parseWait(read('wait')),
        cancelOnAbort: parseBoolean('cancel-on-abort', read('cancel-on-abort'), true),
        comment: oneOf('comment', read('comment') || 'off', ['off', 'on', 'on-failure']),
        maxRequestsPerMinute: parseRequestsPerMinute(read('max-requests-per-minute')),
        evaluationUrl: parseEvaluationUrl(read('evaluation-url')),
        ...files
    };
}
/**
 * The report files asked for. The paths are checked only for what is wrong whatever the disk
 * holds: a folder's path, a NUL, two reports in one file. Whether one can be written is known when
 * it is written, once the verdict is.
 */
function readReportFiles(read) {
    const files = {};
    const taken = new Map();
    for (const [input, field] of Object.entries(REPORT_FILE_INPUTS)) {
        const path = read(input);
        if (path === '')
            continue;
        if (path.includes('\0'))
            throw new InputError(input, 'holds a NUL character, which no file path can hold');
        if (/[/\\]$/.test(path) || /(^|[/\\])\.{1,2}$/.test(path)) {
            throw new InputError(input, `is "${settings_clip(path)}", a folder; give a file path such as reports/adaline.${EXTENSION[input]}`);
        }
        const same = taken.get((0,external_node_path_.resolve)(path));
        if (same !== undefined)
            throw new InputError(input, naming => `names the same file as ${naming.nameOf(same)}: give each report its own file`);
        taken.set((0,external_node_path_.resolve)(path), input);
        files[field] = path;
    }
    return files;
}
const EXTENSION = {
    'junit-file': 'xml',
    'report-file': 'json',
    'metrics-file': 'txt'
};
/** The gate policy; the YAML parser is loaded only when a policy is given. */
async function readPolicy(text) {
    if (text.trim() === '')
        return (0,policy/* emptyPolicy */.UR)();
    const { PolicyError, parsePolicy } = await Promise.all(/* import() */[__nccwpck_require__.e(815), __nccwpck_require__.e(9)]).then(__nccwpck_require__.bind(__nccwpck_require__, 1009));
    try {
        return parsePolicy(text);
    }
    catch (error) {
        if (error instanceof PolicyError)
            throw new InputError('policy', error.message);
        throw error;
    }
}
/** The longest a GitHub-hosted job may run. */
const MAX_WAIT_MS = 6 * 3_600_000;
/** A duration such as 90s, 30m, 1h; empty or 0 means don't wait. */
function parseWait(value) {
    if (value === '' || value === '0')
        return undefined;
    const match = /^(\d+(?:\.\d+)?)\s*([smh])$/i.exec(value);
    const ms = match ? Number(match[1]) * (UNIT_MS[match[2].toLowerCase()] ?? 0) : NaN;
    if (!(ms > 0) || ms > MAX_WAIT_MS) {
        throw new InputError('wait', `is "${settings_clip(value)}"; accepted: a duration up to 6h such as 90s, 30m or 1h, or empty for no wait`);
    }
    return ms;
}
/** More than 100 a second is no cap any API key is given. */
const MAX_REQUESTS_PER_MINUTE = 6_000;
/** A whole number of requests a minute, 1 to 6,000; empty means no cap (the 429s alone teach). */
function parseRequestsPerMinute(value) {
    if (value === '')
        return undefined;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= MAX_REQUESTS_PER_MINUTE)) {
        throw new InputError('max-requests-per-minute', `is "${settings_clip(value)}"; accepted: a whole number of requests a minute from 1 to ${MAX_REQUESTS_PER_MINUTE} (this run's share of the workspace's limit), or empty to slow down only when Adaline answers 429`);
    }
    return n;
}
/** An http(s) URL template with only the known placeholders; empty means no links. */
function parseEvaluationUrl(value) {
    if (value === '')
        return undefined;
    const problem = templateProblem(value);
    if (problem)
        throw new InputError('evaluation-url', problem);
    return value;
}
/** Splits on commas and newlines, dropping blanks. */
function list(value) {
    return value
        .split(/[,\n]/)
        .map(item => item.trim())
        .filter(Boolean);
}
function settings_clip(value) {
    return value.length > 40 ? `${value.slice(0, 39)}…` : value;
}
function checkId(input, id) {
    if (id.length < schema/* ID_MIN */.FD || id.length > schema/* ID_MAX */.Ji || /[\s/?#%\\]/.test(id)) {
        throw new InputError(input, `has "${settings_clip(id)}", which is not an Adaline ID: IDs are ${schema/* ID_MIN */.FD} to ${schema/* ID_MAX */.Ji} characters without spaces or slashes`);
    }
}
function oneOf(input, value, options) {
    const lower = value.toLowerCase();
    if (options.includes(lower))
        return lower;
    throw new InputError(input, `is "${settings_clip(value)}"; accepted: ${options.join(', ')}`);
}
function parseBoolean(input, value, fallback) {
    if (value === '')
        return fallback;
    if (/^(true|yes|on)$/i.test(value))
        return true;
    if (/^(false|no|off)$/i.test(value))
        return false;
    throw new InputError(input, `is "${settings_clip(value)}"; accepted: true or false`);
}
const UNIT_MS = {
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000
};
/** ISO 8601, Unix ms, or a duration back from now such as 90m, 24h, 7d. */
function parseCreatedAfter(value, now) {
    return parseTime('created-after', value, now);
}
/** A point in time given as ISO 8601, Unix ms, or a duration back from now; '' is undefined. */
function parseTime(input, value, now) {
    if (value === '')
        return undefined;
    const accepted = 'accepted: an ISO 8601 time (2026-11-01T00:00:00Z), Unix milliseconds, or a duration back from now (90m, 24h, 7d)';
    if (/^\d+$/.test(value)) {
        const ms = Number(value);
        if (ms < 100_000_000_000) {
            throw new InputError(input, `is ${value}, which reads as Unix seconds; give milliseconds (${value}000). ${accepted}`);
        }
        if (!(0,format/* isDateTime */.Ar)(ms)) {
            throw new InputError(input, `is ${settings_clip(value)}, beyond the last time a date can hold (${format/* MAX_DATE_MS */.zq} ms, in the year 275760). ${accepted}`);
        }
        return ms;
    }
    const duration = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(value);
    if (duration)
        return Math.max(0, now - Number(duration[1]) * (UNIT_MS[duration[2].toLowerCase()] ?? 0));
    if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(value)) {
        const time = Date.parse(value);
        if (!Number.isNaN(time))
            return time;
    }
    throw new InputError(input, `is "${settings_clip(value)}"; ${accepted}`);
}
function parseBaseUrl(value) {
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new InputError('base-url', `is "${settings_clip(value)}", which is not a URL; the default is ${DEFAULT_BASE_URL}`);
    }
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
        throw new InputError('base-url', `uses http:// for ${url.hostname}; the API key is only sent over https://, or http:// to a loopback address (127.0.0.1, localhost, [::1])`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new InputError('base-url', `must be an https:// URL such as ${DEFAULT_BASE_URL}`);
    }
    if (url.username || url.password || url.search || url.hash) {
        throw new InputError('base-url', 'must not carry credentials, a query or a fragment');
    }
    url.pathname = url.pathname.replace(/\/+$/, '');
    return url;
}

;// CONCATENATED MODULE: ./src/inputs/command.ts
/**
 * The command line's own inputs, which the action has not: --format, --policy-file and
 * --superseded-before. Their messages live here, beside every other input's.
 */




const REPORT_FORMATS = ['text', 'markdown', 'json'];
/** The report's format on stdout; text when not given. */
function parseFormat(value) {
    const format = value ?? 'text';
    if (!REPORT_FORMATS.includes(format)) {
        throw new InputError('format', `is "${format}"; accepted: ${REPORT_FORMATS.join(', ')}`);
    }
    return format;
}
/** The policy YAML in the file at `path`. */
function readPolicyFile(path) {
    try {
        return (0,external_node_fs_.readFileSync)(path, 'utf8');
    }
    catch (error) {
        throw new InputError('policy-file', `cannot be read: ${error.message}`);
    }
}
/**
 * The cutoff --superseded-before gives (Unix ms), or undefined. One later than `now` (plus the
 * clock skew the event's times are allowed) would cancel evaluations submitted after it: refused.
 */
function parseSupersededBefore(value, now) {
    const cutoff = parseTime('superseded-before', value, now);
    if (cutoff !== undefined && cutoff > now + CLOCK_SKEW_MS) {
        throw new InputError('superseded-before', `is ${(0,format/* formatTime */.fU)(cutoff)}, later than now (${(0,format/* formatTime */.fU)(now)}) plus ${CLOCK_SKEW_MS / 60_000} min: it would cancel evaluations submitted after it. Give a time that has passed, such as the pipeline's start time`);
    }
    return cutoff;
}

// EXTERNAL MODULE: ./src/judge/metrics.ts
var judge_metrics = __nccwpck_require__(8346);
;// CONCATENATED MODULE: ./src/report/cancel-failed.ts
/**
 * The one error for superseded evaluations whose cancel did not land: they may still be running
 * and billing, so the run fails for them once its report is written. Pure.
 */

/** Evaluations named in the error; the rest are counted (the summary and the output list all). */
const MAX_NAMED = 10;
/** An API message in the error is cut to this many characters. */
const MAX_REASON = 300;
/** The error naming each evaluation still running and why; undefined when every cancel landed. */
function cancelFailedMessage(cancel) {
    const { failed } = cancel;
    if (failed.length === 0)
        return undefined;
    const named = failed
        .slice(0, MAX_NAMED)
        .map(({ runId, promptId, message }) => `${runId} of prompt ${promptId} (${cancel_failed_clip(message)})`);
    const more = failed.length > MAX_NAMED
        ? `; and ${failed.length - MAX_NAMED} more (the report lists them all)`
        : '';
    const them = failed.length === 1 ? 'it' : 'them';
    return `Could not cancel ${(0,format/* plural */.LS)(failed.length, 'superseded evaluation')}, which may still be running and billing: ${named.join('; ')}${more}. Cancel ${them} in Adaline, or run again.`;
}
function cancel_failed_clip(text) {
    const line = text.replace(/\s+/g, ' ').trim();
    return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}

;// CONCATENATED MODULE: ./src/report/json-report.ts


/** Raised when a field changes meaning or goes; adding a field keeps it. */
const JSON_REPORT_SCHEMA_VERSION = 1;
function buildJsonReport(report) {
    const { verdict, metrics, gathered, cancel, timing } = report;
    return {
        schemaVersion: JSON_REPORT_SCHEMA_VERSION,
        gate: verdict.gate,
        rules: verdict.checks,
        broken: verdict.broken.map(({ rule, message }) => ({ rule, message })),
        metrics,
        listedCount: gathered.listedCount,
        listedByStatus: gathered.listedByStatus,
        evaluations: gathered.judged.map(({ promptId, evaluation }) => jsonEvaluation(report, promptId, evaluation)),
        cancelled: cancel.cancelled,
        cancelFailures: cancel.failed,
        finishedBeforeCancel: cancel.finished,
        started: report.started,
        waitedMs: report.wait?.waitedMs ?? null,
        stillRunning: report.wait?.timedOut ?? [],
        baselines: Object.fromEntries([...report.baselines].map(([runId, item]) => [runId, item.evaluation.runId])),
        run: {
            promptIds: report.promptIds,
            scope: report.scope,
            dryRun: report.dryRun,
            supersede: { act: report.decision.act, reason: report.decision.reason },
            startedAt: timing ? json_report_isoTime(timing.startedAt) : null,
            finishedAt: timing ? json_report_isoTime(timing.finishedAt) : null,
            durationMs: timing ? Math.max(0, timing.finishedAt - timing.startedAt) : null
        }
    };
}
/**
 * The report's JSON text: two-space indents and a final newline. `##[` can stand only inside a
 * JSON string, where `\u0023` reads as the same `#` and no runner takes it for a command; U+2028
 * and U+2029, which some readers take for line ends, are escaped the same way. Printed or written,
 * the text is the same.
 */
function jsonReportText(report) {
    const text = JSON.stringify(report, null, 2)
        .replace(/##\[/g, '#\\u0023[')
        .replace(/\u2028/g, '\\u2028')
        .replace(/\u2029/g, '\\u2029');
    return `${text}\n`;
}
function jsonEvaluation(report, promptId, evaluation) {
    const figures = (0,judge_metrics/* totals */.Sd)([evaluation]);
    const baseline = report.baselines.get(evaluation.runId)?.evaluation;
    const rows = report.failingRows.get(evaluation.runId) ?? [];
    const result = {
        ...evaluation,
        promptId,
        evaluatorTitle: report.evaluatorTitles?.get(evaluation.evaluatorId) ?? null,
        passRate: figures.passRate,
        avgLatencyMs: figures.avgLatency,
        baseline: baseline ? jsonBaseline(figures, baseline) : null,
        failingRows: rows.map(jsonRow)
    };
    return result;
}
function jsonBaseline(now, baseline) {
    const before = (0,judge_metrics/* totals */.Sd)([baseline]);
    const difference = (a, b) => a === null || b === null ? null : (0,format/* tidy */.DZ)(a - b);
    return {
        runId: baseline.runId,
        status: baseline.status,
        passRate: before.passRate,
        totalCost: before.totalCost,
        avgLatencyMs: before.avgLatency,
        deltas: {
            passRatePoints: difference(now.passRate === null ? null : now.passRate * 100, before.passRate === null ? null : before.passRate * 100),
            cost: (0,format/* tidy */.DZ)(now.totalCost - before.totalCost),
            avgLatencyMs: difference(now.avgLatency, before.avgLatency)
        }
    };
}
function jsonRow(result) {
    return {
        id: result.id,
        rowId: result.rowId,
        grade: result.grade,
        score: result.score ?? null,
        reason: result.reason ?? null,
        latencyMs: result.latency ?? null,
        values: result.row?.values ?? null
    };
}
/** Unix ms as ISO 8601; a time no Date can hold is null rather than an exception. */
function json_report_isoTime(ms) {
    return (0,format/* isDateTime */.Ar)(ms) ? new Date(ms).toISOString() : null;
}

;// CONCATENATED MODULE: ./node_modules/path-expression-matcher/src/Expression.js
/**
 * Expression - Parses and stores a tag pattern expression
 * 
 * Patterns are parsed once and stored in an optimized structure for fast matching.
 * 
 * @example
 * const expr = new Expression("root.users.user");
 * const expr2 = new Expression("..user[id]:first");
 * const expr3 = new Expression("root/users/user", { separator: '/' });
 */
class Expression {
  /**
   * Create a new Expression
   * @param {string} pattern - Pattern string (e.g., "root.users.user", "..user[id]")
   * @param {Object} options - Configuration options
   * @param {string} options.separator - Path separator (default: '.')
   */
  constructor(pattern, options = {}, data) {
    this.pattern = pattern;
    this.separator = options.separator || '.';
    this.segments = this._parse(pattern);
    this.data = data;
    // Cache expensive checks for performance (O(1) instead of O(n))
    this._hasDeepWildcard = this.segments.some(seg => seg.type === 'deep-wildcard');
    this._hasAttributeCondition = this.segments.some(seg => seg.attrName !== undefined);
    this._hasPositionSelector = this.segments.some(seg => seg.position !== undefined);
  }

  /**
   * Parse pattern string into segments
   * @private
   * @param {string} pattern - Pattern to parse
   * @returns {Array} Array of segment objects
   */
  _parse(pattern) {
    const segments = [];

    // Split by separator but handle ".." specially
    let i = 0;
    let currentPart = '';

    while (i < pattern.length) {
      if (pattern[i] === this.separator) {
        // Check if next char is also separator (deep wildcard)
        if (i + 1 < pattern.length && pattern[i + 1] === this.separator) {
          // Flush current part if any
          if (currentPart.trim()) {
            segments.push(this._parseSegment(currentPart.trim()));
            currentPart = '';
          }
          // Add deep wildcard
          segments.push({ type: 'deep-wildcard' });
          i += 2; // Skip both separators
        } else {
          // Regular separator
          if (currentPart.trim()) {
            segments.push(this._parseSegment(currentPart.trim()));
          }
          currentPart = '';
          i++;
        }
      } else {
        currentPart += pattern[i];
        i++;
      }
    }

    // Flush remaining part
    if (currentPart.trim()) {
      segments.push(this._parseSegment(currentPart.trim()));
    }

    return segments;
  }

  /**
   * Parse a single segment
   * @private
   * @param {string} part - Segment string (e.g., "user", "ns::user", "user[id]", "ns::user:first")
   * @returns {Object} Segment object
   */
  _parseSegment(part) {
    const segment = { type: 'tag' };

    // NEW NAMESPACE SYNTAX (v2.0):
    // ============================
    // Namespace uses DOUBLE colon (::)
    // Position uses SINGLE colon (:)
    // 
    // Examples:
    //   "user"              → tag
    //   "user:first"        → tag + position
    //   "user[id]"          → tag + attribute
    //   "user[id]:first"    → tag + attribute + position
    //   "ns::user"          → namespace + tag
    //   "ns::user:first"    → namespace + tag + position
    //   "ns::user[id]"      → namespace + tag + attribute
    //   "ns::user[id]:first" → namespace + tag + attribute + position
    //   "ns::first"         → namespace + tag named "first" (NO ambiguity!)
    //
    // This eliminates all ambiguity:
    //   :: = namespace separator
    //   :  = position selector
    //   [] = attributes

    // Step 1: Extract brackets [attr] or [attr=value]
    let bracketContent = null;
    let withoutBrackets = part;

    const bracketMatch = part.match(/^([^\[]+)(\[[^\]]*\])(.*)$/);
    if (bracketMatch) {
      withoutBrackets = bracketMatch[1] + bracketMatch[3];
      if (bracketMatch[2]) {
        const content = bracketMatch[2].slice(1, -1);
        if (content) {
          bracketContent = content;
        }
      }
    }

    // Step 2: Check for namespace (double colon ::)
    let namespace = undefined;
    let tagAndPosition = withoutBrackets;

    if (withoutBrackets.includes('::')) {
      const nsIndex = withoutBrackets.indexOf('::');
      namespace = withoutBrackets.substring(0, nsIndex).trim();
      tagAndPosition = withoutBrackets.substring(nsIndex + 2).trim(); // Skip ::

      if (!namespace) {
        throw new Error(`Invalid namespace in pattern: ${part}`);
      }
    }

    // Step 3: Parse tag and position (single colon :)
    let tag = undefined;
    let positionMatch = null;

    if (tagAndPosition.includes(':')) {
      const colonIndex = tagAndPosition.lastIndexOf(':'); // Use last colon for position
      const tagPart = tagAndPosition.substring(0, colonIndex).trim();
      const posPart = tagAndPosition.substring(colonIndex + 1).trim();

      // Verify position is a valid keyword
      const isPositionKeyword = ['first', 'last', 'odd', 'even'].includes(posPart) ||
        /^nth\(\d+\)$/.test(posPart);

      if (isPositionKeyword) {
        tag = tagPart;
        positionMatch = posPart;
      } else {
        // Not a valid position keyword, treat whole thing as tag
        tag = tagAndPosition;
      }
    } else {
      tag = tagAndPosition;
    }

    if (!tag) {
      throw new Error(`Invalid segment pattern: ${part}`);
    }

    segment.tag = tag;
    if (namespace) {
      segment.namespace = namespace;
    }

    // Step 4: Parse attributes
    if (bracketContent) {
      if (bracketContent.includes('=')) {
        const eqIndex = bracketContent.indexOf('=');
        segment.attrName = bracketContent.substring(0, eqIndex).trim();
        segment.attrValue = bracketContent.substring(eqIndex + 1).trim();
      } else {
        segment.attrName = bracketContent.trim();
      }
    }

    // Step 5: Parse position selector
    if (positionMatch) {
      const nthMatch = positionMatch.match(/^nth\((\d+)\)$/);
      if (nthMatch) {
        segment.position = 'nth';
        segment.positionValue = parseInt(nthMatch[1], 10);
      } else {
        segment.position = positionMatch;
      }
    }

    return segment;
  }

  /**
   * Get the number of segments
   * @returns {number}
   */
  get length() {
    return this.segments.length;
  }

  /**
   * Check if expression contains deep wildcard
   * @returns {boolean}
   */
  hasDeepWildcard() {
    return this._hasDeepWildcard;
  }

  /**
   * Check if expression has attribute conditions
   * @returns {boolean}
   */
  hasAttributeCondition() {
    return this._hasAttributeCondition;
  }

  /**
   * Check if expression has position selectors
   * @returns {boolean}
   */
  hasPositionSelector() {
    return this._hasPositionSelector;
  }

  /**
   * Get string representation
   * @returns {string}
   */
  toString() {
    return this.pattern;
  }
}
;// CONCATENATED MODULE: ./node_modules/path-expression-matcher/src/Matcher.js


/**
 * MatcherView - A lightweight read-only view over a Matcher's internal state.
 *
 * Created once by Matcher and reused across all callbacks. Holds a direct
 * reference to the parent Matcher so it always reflects current parser state
 * with zero copying or freezing overhead.
 *
 * Users receive this via {@link Matcher#readOnly} or directly from parser
 * callbacks. It exposes all query and matching methods but has no mutation
 * methods — misuse is caught at the TypeScript level rather than at runtime.
 *
 * @example
 * const matcher = new Matcher();
 * const view = matcher.readOnly();
 *
 * matcher.push("root", {});
 * view.getCurrentTag(); // "root"
 * view.getDepth();      // 1
 */
class MatcherView {
  /**
   * @param {Matcher} matcher - The parent Matcher instance to read from.
   */
  constructor(matcher) {
    this._matcher = matcher;
  }

  /**
   * Get the path separator used by the parent matcher.
   * @returns {string}
   */
  get separator() {
    return this._matcher.separator;
  }

  /**
   * Get current tag name.
   * @returns {string|undefined}
   */
  getCurrentTag() {
    const path = this._matcher.path;
    return path.length > 0 ? path[path.length - 1].tag : undefined;
  }

  /**
   * Get current namespace.
   * @returns {string|undefined}
   */
  getCurrentNamespace() {
    const path = this._matcher.path;
    return path.length > 0 ? path[path.length - 1].namespace : undefined;
  }

  /**
   * Get current node's attribute value.
   * @param {string} attrName
   * @returns {*}
   */
  getAttrValue(attrName) {
    const path = this._matcher.path;
    if (path.length === 0) return undefined;
    return path[path.length - 1].values?.[attrName];
  }

  /**
   * Check if current node has an attribute.
   * @param {string} attrName
   * @returns {boolean}
   */
  hasAttr(attrName) {
    const path = this._matcher.path;
    if (path.length === 0) return false;
    const current = path[path.length - 1];
    return current.values !== undefined && attrName in current.values;
  }

  /**
   * Get the value of a "kept" attribute from the nearest ancestor (or
   * current node) that declared it via `push(tag, attrs, ns, { keep: [...] })`.
   * @param {string} attrName
   * @returns {*}
   */
  getAnyParentAttr(attrName) {
    return this._matcher.getAnyParentAttr(attrName);
  }

  /**
   * Check whether any ancestor (or the current node) kept the given
   * attribute via `push(tag, attrs, ns, { keep: [...] })`.
   * @param {string} attrName
   * @returns {boolean}
   */
  hasAnyParentAttr(attrName) {
    return this._matcher.hasAnyParentAttr(attrName);
  }

  /**
   * Get current node's sibling position (child index in parent).
   * @returns {number}
   */
  getPosition() {
    const path = this._matcher.path;
    if (path.length === 0) return -1;
    return path[path.length - 1].position ?? 0;
  }

  /**
   * Get current node's repeat counter (occurrence count of this tag name).
   * @returns {number}
   */
  getCounter() {
    const path = this._matcher.path;
    if (path.length === 0) return -1;
    return path[path.length - 1].counter ?? 0;
  }

  /**
   * Get current node's sibling index (alias for getPosition).
   * @returns {number}
   * @deprecated Use getPosition() or getCounter() instead
   */
  getIndex() {
    return this.getPosition();
  }

  /**
   * Get current path depth.
   * @returns {number}
   */
  getDepth() {
    return this._matcher.path.length;
  }

  /**
   * Get path as string.
   * @param {string} [separator] - Optional separator (uses default if not provided)
   * @param {boolean} [includeNamespace=true]
   * @returns {string}
   */
  toString(separator, includeNamespace = true) {
    return this._matcher.toString(separator, includeNamespace);
  }

  /**
   * Get path as array of tag names.
   * @returns {string[]}
   */
  toArray() {
    return this._matcher.path.map(n => n.tag);
  }

  /**
   * Match current path against an Expression.
   * @param {Expression} expression
   * @returns {boolean}
   */
  matches(expression) {
    return this._matcher.matches(expression);
  }

  /**
   * Match any expression in the given set against the current path.
   * @param {ExpressionSet} exprSet
   * @returns {boolean}
   */
  matchesAny(exprSet) {
    return exprSet.matchesAny(this._matcher);
  }
}

/**
 * Matcher - Tracks current path in XML/JSON tree and matches against Expressions.
 *
 * The matcher maintains a stack of nodes representing the current path from root to
 * current tag. It only stores attribute values for the current (top) node to minimize
 * memory usage. Sibling tracking is used to auto-calculate position and counter.
 *
 * Use {@link Matcher#readOnly} to obtain a {@link MatcherView} safe to pass to
 * user callbacks — it always reflects current state with no Proxy overhead.
 *
 * @example
 * const matcher = new Matcher();
 * matcher.push("root", {});
 * matcher.push("users", {});
 * matcher.push("user", { id: "123", type: "admin" });
 *
 * const expr = new Expression("root.users.user");
 * matcher.matches(expr); // true
 */
class Matcher {
  /**
   * Create a new Matcher.
   * @param {Object} [options={}]
   * @param {string} [options.separator='.'] - Default path separator
   */
  constructor(options = {}) {
    this.separator = options.separator || '.';
    this.path = [];
    this.siblingStacks = [];
    // Each path node: { tag, values, position, counter, namespace? }
    // values only present for current (last) node
    // Each siblingStacks entry: Map<tagName, count> tracking occurrences at each level
    this._pathStringCache = null;
    this._view = new MatcherView(this);

    // Kept-attribute stack: only populated when push() is called with options.keep.
    this._keptAttrs = [];
  }

  /**
   * Push a new tag onto the path.
   * @param {string} tagName
   * @param {Object|null} [attrValues=null]
   * @param {string|null} [namespace=null]
   * @param {Object|null} [options=null]
   * @param {string[]} [options.keep] - Names of attributes (from attrValues)
   */
  push(tagName, attrValues = null, namespace = null, options = null) {
    this._pathStringCache = null;

    // Remove values from previous current node (now becoming ancestor)
    if (this.path.length > 0) {
      this.path[this.path.length - 1].values = undefined;
    }

    // Get or create sibling tracking for current level
    const currentLevel = this.path.length;
    let level = this.siblingStacks[currentLevel];
    if (!level) {
      // `counts` tells same-name siblings apart (the "counter" — nth <item>
      // among other <item>s). `total` is every child seen at this level so
      // far, kept as a running number instead of re-added from `counts` on
      // every push — a parent with many differently-named children would
      // otherwise cost more per child the more distinct names it has.
      level = { counts: new Map(), total: 0 };
      this.siblingStacks[currentLevel] = level;
    }

    // Create a unique key for sibling tracking that includes namespace
    const siblingKey = namespace ? `${namespace}:${tagName}` : tagName;

    // Calculate counter (how many times this tag appeared at this level)
    const counter = level.counts.get(siblingKey) || 0;

    // Position = total children at this level seen before this one.
    const position = level.total;

    // Update sibling count for this tag, and the level's running total.
    level.counts.set(siblingKey, counter + 1);
    level.total++;

    // Create new node
    const node = {
      tag: tagName,
      position: position,
      counter: counter
    };

    if (namespace !== null && namespace !== undefined) {
      node.namespace = namespace;
    }

    if (attrValues !== null && attrValues !== undefined) {
      node.values = attrValues;
    }

    this.path.push(node);

    // Depth of the node we just pushed (1-based, matches this.path.length)
    const depth = this.path.length;

    // Copy only the requested attributes into the kept-attrs stack. This is
    // the one part of push() whose cost scales with input (O(keep.length))
    // rather than being O(1) — by design, since the caller is explicitly
    // opting in for specific attribute names. No options/keep => zero added
    // cost beyond the two property reads below.
    const keep = options !== null ? options.keep : null;
    if (keep !== null && keep !== undefined && keep.length > 0 && attrValues) {
      for (let i = 0; i < keep.length; i++) {
        const name = keep[i];
        if (attrValues[name] !== undefined) {
          this._keptAttrs.push({ depth, name, value: attrValues[name] });
        }
      }
    }
  }

  /**
   * Pop the last tag from the path.
   * @returns {Object|undefined} The popped node
   */
  pop() {
    if (this.path.length === 0) return undefined;
    this._pathStringCache = null;

    const node = this.path.pop();

    if (this.siblingStacks.length > this.path.length + 1) {
      this.siblingStacks.length = this.path.length + 1;
    }

    // Drop any kept attributes that belonged to the popped node (or deeper).
    // _keptAttrs is depth-ordered (push only ever appends increasing depths),
    // so this is a backward scan that stops at the first surviving entry —
    // typically O(1) since kept attrs are rare by design.
    const poppedDepth = this.path.length + 1;
    while (
      this._keptAttrs.length > 0 &&
      this._keptAttrs[this._keptAttrs.length - 1].depth >= poppedDepth
    ) {
      this._keptAttrs.pop();
    }

    return node;
  }

  /**
   * Update current node's attribute values.
   * Useful when attributes are parsed after push.
   * @param {Object} attrValues
   */
  updateCurrent(attrValues) {
    if (this.path.length > 0) {
      const current = this.path[this.path.length - 1];
      if (attrValues !== null && attrValues !== undefined) {
        current.values = attrValues;
      }
    }
  }

  /**
   * Get current tag name.
   * @returns {string|undefined}
   */
  getCurrentTag() {
    return this.path.length > 0 ? this.path[this.path.length - 1].tag : undefined;
  }

  /**
   * Get current namespace.
   * @returns {string|undefined}
   */
  getCurrentNamespace() {
    return this.path.length > 0 ? this.path[this.path.length - 1].namespace : undefined;
  }

  /**
   * Get current node's attribute value.
   * @param {string} attrName
   * @returns {*}
   */
  getAttrValue(attrName) {
    if (this.path.length === 0) return undefined;
    return this.path[this.path.length - 1].values?.[attrName];
  }

  /**
   * Check if current node has an attribute.
   * @param {string} attrName
   * @returns {boolean}
   */
  hasAttr(attrName) {
    if (this.path.length === 0) return false;
    const current = this.path[this.path.length - 1];
    return current.values !== undefined && attrName in current.values;
  }

  /**
   * Get the value of a "kept" attribute from the nearest ancestor (or
   * current node) that declared it via `push(tag, attrs, ns, { keep: [...] })`.
   * Unlike getAttrValue(), this works regardless of how deep the path has
   * gone since the attribute was pushed — but only for attribute names that
   * were explicitly marked with `keep` at push time. Cost is proportional to
   * the number of currently-kept attributes (typically 0-3), not path depth.
   * @param {string} attrName
   * @returns {*} the value, or undefined if no ancestor kept this attribute
   */
  getAnyParentAttr(attrName) {
    const kept = this._keptAttrs;
    for (let i = kept.length - 1; i >= 0; i--) {
      if (kept[i].name === attrName) return kept[i].value;
    }
    return undefined;
  }

  /**
   * Check whether any ancestor (or the current node) kept the given
   * attribute via `push(tag, attrs, ns, { keep: [...] })`.
   * @param {string} attrName
   * @returns {boolean}
   */
  hasAnyParentAttr(attrName) {
    const kept = this._keptAttrs;
    for (let i = kept.length - 1; i >= 0; i--) {
      if (kept[i].name === attrName) return true;
    }
    return false;
  }

  /**
   * Get current node's sibling position (child index in parent).
   * @returns {number}
   */
  getPosition() {
    if (this.path.length === 0) return -1;
    return this.path[this.path.length - 1].position ?? 0;
  }

  /**
   * Get current node's repeat counter (occurrence count of this tag name).
   * @returns {number}
   */
  getCounter() {
    if (this.path.length === 0) return -1;
    return this.path[this.path.length - 1].counter ?? 0;
  }

  /**
   * Get current node's sibling index (alias for getPosition).
   * @returns {number}
   * @deprecated Use getPosition() or getCounter() instead
   */
  getIndex() {
    return this.getPosition();
  }

  /**
   * Get current path depth.
   * @returns {number}
   */
  getDepth() {
    return this.path.length;
  }

  /**
   * Get path as string.
   * @param {string} [separator] - Optional separator (uses default if not provided)
   * @param {boolean} [includeNamespace=true]
   * @returns {string}
   */
  toString(separator, includeNamespace = true) {
    const sep = separator || this.separator;
    const isDefault = (sep === this.separator && includeNamespace === true);

    if (isDefault) {
      if (this._pathStringCache !== null) {
        return this._pathStringCache;
      }
      const result = this.path.map(n =>
        (n.namespace) ? `${n.namespace}:${n.tag}` : n.tag
      ).join(sep);
      this._pathStringCache = result;
      return result;
    }

    return this.path.map(n =>
      (includeNamespace && n.namespace) ? `${n.namespace}:${n.tag}` : n.tag
    ).join(sep);
  }

  /**
   * Get path as array of tag names.
   * @returns {string[]}
   */
  toArray() {
    return this.path.map(n => n.tag);
  }

  /**
   * Reset the path to empty.
   */
  reset() {
    this._pathStringCache = null;
    this.path = [];
    this.siblingStacks = [];
    this._keptAttrs = [];
  }

  /**
   * Match current path against an Expression.
   * @param {Expression} expression
   * @returns {boolean}
   */
  matches(expression) {
    const segments = expression.segments;

    if (segments.length === 0) {
      return false;
    }

    if (expression.hasDeepWildcard()) {
      return this._matchWithDeepWildcard(segments);
    }

    return this._matchSimple(segments);
  }

  /**
   * @private
   */
  _matchSimple(segments) {
    if (this.path.length !== segments.length) {
      return false;
    }

    for (let i = 0; i < segments.length; i++) {
      if (!this._matchSegment(segments[i], this.path[i], i === this.path.length - 1)) {
        return false;
      }
    }

    return true;
  }

  /**
   * @private
   */
  _matchWithDeepWildcard(segments) {
    let pathIdx = this.path.length - 1;
    let segIdx = segments.length - 1;

    while (segIdx >= 0 && pathIdx >= 0) {
      const segment = segments[segIdx];

      if (segment.type === 'deep-wildcard') {
        segIdx--;

        if (segIdx < 0) {
          return true;
        }

        const nextSeg = segments[segIdx];
        let found = false;

        for (let i = pathIdx; i >= 0; i--) {
          if (this._matchSegment(nextSeg, this.path[i], i === this.path.length - 1)) {
            pathIdx = i - 1;
            segIdx--;
            found = true;
            break;
          }
        }

        if (!found) {
          return false;
        }
      } else {
        if (!this._matchSegment(segment, this.path[pathIdx], pathIdx === this.path.length - 1)) {
          return false;
        }
        pathIdx--;
        segIdx--;
      }
    }

    return segIdx < 0;
  }

  /**
   * @private
   */
  _matchSegment(segment, node, isCurrentNode) {
    if (segment.tag !== '*' && segment.tag !== node.tag) {
      return false;
    }

    if (segment.namespace !== undefined) {
      if (segment.namespace !== '*' && segment.namespace !== node.namespace) {
        return false;
      }
    }

    if (segment.attrName !== undefined) {
      if (!isCurrentNode) {
        return false;
      }

      if (!node.values || !(segment.attrName in node.values)) {
        return false;
      }

      if (segment.attrValue !== undefined) {
        if (String(node.values[segment.attrName]) !== String(segment.attrValue)) {
          return false;
        }
      }
    }

    if (segment.position !== undefined) {
      if (!isCurrentNode) {
        return false;
      }

      const counter = node.counter ?? 0;

      if (segment.position === 'first' && counter !== 0) {
        return false;
      } else if (segment.position === 'odd' && counter % 2 !== 1) {
        return false;
      } else if (segment.position === 'even' && counter % 2 !== 0) {
        return false;
      } else if (segment.position === 'nth' && counter !== segment.positionValue) {
        return false;
      }
    }

    return true;
  }

  /**
   * Match any expression in the given set against the current path.
   * @param {ExpressionSet} exprSet
   * @returns {boolean}
   */
  matchesAny(exprSet) {
    return exprSet.matchesAny(this);
  }

  /**
   * Create a snapshot of current state.
   * @returns {Object}
   */
  snapshot() {
    return {
      path: this.path.map(node => ({ ...node })),
      siblingStacks: this.siblingStacks.map(level => level ? { counts: new Map(level.counts), total: level.total } : level),
      keptAttrs: this._keptAttrs.map(entry => ({ ...entry }))
    };
  }

  /**
   * Restore state from snapshot.
   * @param {Object} snapshot
   */
  restore(snapshot) {
    this._pathStringCache = null;
    this.path = snapshot.path.map(node => ({ ...node }));
    this.siblingStacks = snapshot.siblingStacks.map(level => level ? { counts: new Map(level.counts), total: level.total } : level);
    this._keptAttrs = (snapshot.keptAttrs || []).map(entry => ({ ...entry }));
  }

  /**
   * Return the read-only {@link MatcherView} for this matcher.
   *
   * The same instance is returned on every call — no allocation occurs.
   * It always reflects the current parser state and is safe to pass to
   * user callbacks without risk of accidental mutation.
   *
   * @returns {MatcherView}
   *
   * @example
   * const view = matcher.readOnly();
   * // pass view to callbacks — it stays in sync automatically
   * view.matches(expr);       // ✓
   * view.getCurrentTag();     // ✓
   * // view.push(...)         // ✗ method does not exist — caught by TypeScript
   */
  readOnly() {
    return this._view;
  }
}

;// CONCATENATED MODULE: ./node_modules/fast-xml-builder/src/util.js


// String(val)/val.toString() drop the sign of -0 (e.g. String(-0) === '0'), silently
// corrupting a round-tripped negative-zero value. XML has no separate int/float syntax,
// so this is the single place every raw value gets turned into text.
function valToStr(val) {
  return typeof val === 'number' && Object.is(val, -0) ? '-0' : String(val)
}

function safeComment(val) {
  return valToStr(val)
    .replace(/--/g, '- -')   // -- is illegal anywhere in comment content
    .replace(/--/g, '- -')   // handle the scenario when 2 consiucative dashes appears 
    .replace(/-$/, '- ');    // trailing - would form -- with the closing -->
}

function safeCdata(val) {
  return valToStr(val).replace(/\]\]>/g, ']]]]><![CDATA[>')
}

function escapeAttribute(val) {
  return valToStr(val).replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/**
 * Resolve a tag or attribute name through sanitizeName if configured.
 * Validation via xml-naming's qName is performed first; the sanitizeName
 * callback is invoked only when the name is invalid. If sanitizeName is
 * false (default), no validation occurs and the name is used as-is.
 *
 * @param {string}  name        - raw name from the JS object
 * @param {boolean} isAttribute - true when resolving an attribute name
 * @param {object}  options
 * @param {Matcher} matcher     - current matcher state (readonly from callback perspective)
 * @param {function} qNameValidator - function to validate tag names
 */

function resolveName(name, isAttribute, options, matcher, validator) {
  if (!options.sanitizeName) return name;

  // Processing-instruction names: validate the part after the leading "?"
  const isPI = !isAttribute && name[0] === '?';
  const bare = isPI ? name.slice(1) : name;

  if (validator(bare)) return name;

  const result = options.sanitizeName(bare, { isAttribute, matcher: matcher.readOnly() });

  // Never trust the callback's output
  if (typeof result !== 'string' || !validator(result)) {
    throw new Error(`sanitizeName returned an invalid XML name for "${bare}"`);
  }
  return isPI ? '?' + result : result;
}
;// CONCATENATED MODULE: ./node_modules/xml-naming/src/index.js
/**
 * xml-naming
 * Validates XML Name productions as defined in the XML 1.0 and 1.1 specifications.
 * Covers: Name, NCName, QName, NMToken, NMTokens
 *
 * XML 1.0 spec: https://www.w3.org/TR/xml/#NT-Name
 * XML 1.1 spec: https://www.w3.org/TR/xml11/#NT-NameStartChar
 * XML NS spec:  https://www.w3.org/TR/xml-names/#NT-NCName
 */

// ---------------------------------------------------------------------------
// Character class strings — XML 1.0
//
// NameStartChar ::= ":" | [A-Z] | "_" | [a-z]
//   | [#xC0-#xD6]   | [#xD8-#xF6]   | [#xF8-#x2FF]
//   | [#x370-#x37D] | [#x37F-#x1FFF]    <- split to exclude #x0487
//   | [#x200C-#x200D]
//   | [#x2070-#x218F] | [#x2C00-#x2FEF]
//   | [#x3001-#xD7FF] | [#xF900-#xFDCF] | [#xFDF0-#xFFFD]
//
// NameChar ::= NameStartChar | "-" | "." | [0-9]
//   | #xB7 | [#x0300-#x036F] | [#x203F-#x2040]
//
// Note: \u0487 (Combining Cyrillic Millions Sign) was added in Unicode 4.0,
// after XML 1.0 was defined against Unicode 2.0. It falls inside the range
// \u037F-\u1FFF but must be excluded. We split that range into
// \u037F-\u0486 and \u0488-\u1FFF to exclude it explicitly.
// ---------------------------------------------------------------------------

const nameStartChar10 =
  ':A-Za-z_' +
  '\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF' +
  '\u0370-\u037D' +
  '\u037F-\u0486\u0488-\u1FFF' +  // split to exclude \u0487
  '\u200C-\u200D' +
  '\u2070-\u218F' +
  '\u2C00-\u2FEF' +
  '\u3001-\uD7FF' +
  '\uF900-\uFDCF' +
  '\uFDF0-\uFFFD';

const nameChar10 =
  nameStartChar10 +
  '\\-\\.\\d' +
  '\u00B7' +
  '\u0300-\u036F' +
  '\u203F-\u2040';

// ---------------------------------------------------------------------------
// Character class strings — XML 1.1
//
// Differences from XML 1.0:
//
// NameStartChar:
//   1.0 has split ranges: \u00C0-\u00D6, \u00D8-\u00F6, \u00F8-\u02FF
//   1.1 merges them into: \u00C0-\u02FF
//   (\u00D7 x and \u00F7 / are division symbols, excluded in both versions)
//
//   1.0 tops out at \uFFFD (BMP only)
//   1.1 adds \u{10000}-\u{EFFFF} (supplementary planes)
//   These require the /u flag on the RegExp — see buildRegexes below.
//
// NameChar:
//   1.1 adds \u0487 (Combining Cyrillic Millions Sign, added in Unicode 4.0)
// ---------------------------------------------------------------------------

const nameStartChar11 =
  ':A-Za-z_' +
  '\u00C0-\u02FF' +                    // merged — 1.0 had three split ranges here
  '\u0370-\u037D' +
  '\u037F-\u0486\u0488-\u1FFF' +       // split to exclude \u0487 (combining mark, never a NameStartChar)
  '\u200C-\u200D' +
  '\u2070-\u218F' +
  '\u2C00-\u2FEF' +
  '\u3001-\uD7FF' +
  '\uF900-\uFDCF' +
  '\uFDF0-\uFFFD' +
  '\u{10000}-\u{EFFFF}';     // supplementary planes — REQUIRES /u flag on RegExp

const nameChar11 =
  nameStartChar11 +
  '\\-\\.\\d' +
  '\u00B7' +
  '\u0300-\u036F' +
  '\u0487' +                 // Combining Cyrillic Millions Sign — valid in 1.1, not 1.0
  '\u203F-\u2040';

// ---------------------------------------------------------------------------
// Regex builders
//
// XML 1.0 regexes: no flags — BMP only, standard JS regex behaviour.
// XML 1.1 regexes: /u flag — required for \u{10000}-\u{EFFFF} to match actual
//   supplementary code points rather than lone surrogates (which are illegal XML).
// ---------------------------------------------------------------------------

const buildRegexes = (startChar, char, flags = '') => {
  const ncStart = startChar.replace(':', '');
  const ncChar = char.replace(':', '');
  const ncNamePat = `[${ncStart}][${ncChar}]*`;

  return {
    name: new RegExp(`^[${startChar}][${char}]*$`, flags),
    ncName: new RegExp(`^${ncNamePat}$`, flags),
    qName: new RegExp(`^${ncNamePat}(?::${ncNamePat})?$`, flags),
    nmToken: new RegExp(`^[${char}]+$`, flags),
    nmTokens: new RegExp(`^[${char}]+(?:\\s+[${char}]+)*$`, flags),
  };
};

const regexes10 = buildRegexes(nameStartChar10, nameChar10);       // no /u — BMP only
const regexes11 = buildRegexes(nameStartChar11, nameChar11, 'u');  // /u — enables \u{10000}-\u{EFFFF}

// ---------------------------------------------------------------------------
// ASCII-only fast path (opt-in, off by default)
//
// The XML 1.0 vs 1.1 NameStartChar/NameChar productions differ *only* in
// their non-ASCII ranges (merged vs split Latin-1 ranges, \u0487, and
// supplementary planes). Restricted to ASCII, both versions collapse to the
// same character classes, so a single regex pair covers both xmlVersion
// values — no /u flag needed.
//
// Rationale: unicode-aware regexes (the /u flag, required for XML 1.1's
// supplementary-plane range) are measurably slower in V8 than plain
// non-unicode regexes on the same input, even when the input is pure ASCII.
// For the common case — HTML/SVG ids, XML tags — names are ASCII, so callers
// who know this can opt in to skip the unicode-aware matching path entirely.
// This is a real but *conditional* win: mainly for XML 1.1 input (avoids /u),
// or at scale where the larger unicode character classes add engine
// overhead. It also changes behaviour (rejects legitimate non-ASCII XML
// 1.0/1.1 names), so it must never be silently enabled — hence off by
// default.
// ---------------------------------------------------------------------------

const nameStartCharAscii = ':A-Za-z_';
const nameCharAscii = nameStartCharAscii + '\\-\\.\\d';

const regexesAscii = buildRegexes(nameStartCharAscii, nameCharAscii); // no /u — ASCII only

const getRegexes = (xmlVersion = '1.0', asciiOnly = false) => {
  if (asciiOnly) return regexesAscii;
  return xmlVersion === '1.1' ? regexes11 : regexes10;
};

// ---------------------------------------------------------------------------
// Boolean validators
// ---------------------------------------------------------------------------

/**
 * Returns true if the string is a valid XML Name.
 * Colons are allowed anywhere (Name production).
 * Used for: DOCTYPE entity names, notation names, DTD element declarations.
 *
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 *   asciiOnly: skip unicode-aware matching, ASCII names only (default false).
 */
const src_name = (str, { xmlVersion = '1.0', asciiOnly = false } = {}) =>
  getRegexes(xmlVersion, asciiOnly).name.test(str);

/**
 * Returns true if the string is a valid NCName (Non-Colonized Name).
 * Colons are not permitted.
 * Used for: namespace prefixes, local names, SVG id attributes.
 *
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 *   asciiOnly: skip unicode-aware matching, ASCII names only (default false).
 */
const ncName = (str, { xmlVersion = '1.0', asciiOnly = false } = {}) =>
  getRegexes(xmlVersion, asciiOnly).ncName.test(str);

/**
 * Returns true if the string is a valid QName (Qualified Name).
 * Allows exactly one colon as a prefix separator: prefix:localName.
 * Used for: element and attribute names in namespace-aware XML/SVG.
 *
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 *   asciiOnly: skip unicode-aware matching, ASCII names only (default false).
 */
const qName = (str, { xmlVersion = '1.0', asciiOnly = false } = {}) =>
  getRegexes(xmlVersion, asciiOnly).qName.test(str);

/**
 * Returns true if the string is a valid NMToken.
 * Like Name but no restriction on the first character.
 * Used for: DTD NMTOKEN attribute values.
 *
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 *   asciiOnly: skip unicode-aware matching, ASCII names only (default false).
 */
const nmToken = (str, { xmlVersion = '1.0', asciiOnly = false } = {}) =>
  getRegexes(xmlVersion, asciiOnly).nmToken.test(str);

/**
 * Returns true if the string is a valid NMTokens value.
 * A whitespace-separated list of NMToken values.
 * Used for: DTD NMTOKENS attribute values.
 *
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 *   asciiOnly: skip unicode-aware matching, ASCII names only (default false).
 */
const nmTokens = (str, { xmlVersion = '1.0', asciiOnly = false } = {}) =>
  getRegexes(xmlVersion, asciiOnly).nmTokens.test(str);

// ---------------------------------------------------------------------------
// Memoized validator factory
//
// Real documents reuse a small vocabulary of tag/attribute names across many
// siblings (e.g. `id`, `class`, `href` repeated across hundreds of elements).
// The plain boolean validators above re-run the regex on every call
// regardless of repeats. `createValidator` returns a closure with a private
// string -> boolean cache, so repeated names after the first become O(1)
// lookups instead of regex tests.
//
// - opts (xmlVersion, asciiOnly) are fixed at creation time, so the regex is
//   resolved once, not on every call.
// - The cache is private to the returned closure — no shared/global state,
//   no cross-caller pollution.
// - `maxCacheSize` bounds memory: once the cache reaches this many entries,
//   it stops accepting new ones (existing entries keep serving hits; new
//   misses just fall through to the regex, uncached). This avoids unbounded
//   growth against adversarial/high-cardinality input (e.g. validating
//   attacker-supplied names with no repeats) without the cost/complexity of
//   a full LRU, and without the perf cliff of reset-and-refill thrashing.
// - Call `.reset()` on the returned function to clear the cache manually
//   (e.g. between unrelated parse calls).
// ---------------------------------------------------------------------------

const PRODUCTIONS = ['name', 'ncName', 'qName', 'nmToken', 'nmTokens'];

/**
 * Returns a memoized boolean validator function for a single production,
 * with opts fixed at creation time.
 *
 * @param {'name'|'ncName'|'qName'|'nmToken'|'nmTokens'} production
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean, maxCacheSize?: number }} [opts]
 *   maxCacheSize: max number of distinct strings to cache (default 2048).
 *   Once reached, new strings are validated but not cached; existing cached
 *   entries keep being served.
 * @returns {((str: string) => boolean) & { reset: () => void }}
 */
const createValidator = (production, { xmlVersion = '1.0', asciiOnly = false, maxCacheSize = 2048 } = {}) => {
  if (!PRODUCTIONS.includes(production)) {
    throw new TypeError(
      `Unknown production "${production}". Must be one of: ${PRODUCTIONS.join(', ')}`
    );
  }

  const regex = getRegexes(xmlVersion, asciiOnly)[production];
  let cache = new Map();

  const validator = (str) => {
    const cached = cache.get(str);
    if (cached !== undefined) return cached;

    const result = regex.test(str);
    if (cache.size < maxCacheSize) cache.set(str, result);
    return result;
  };

  validator.reset = () => { cache = new Map(); };

  return validator;
};

// ---------------------------------------------------------------------------
// Diagnostic validator
// ---------------------------------------------------------------------------

/**
 * Validates a string against a named production and returns a detailed result.
 *
 * @param {string} str
 * @param {'name'|'ncName'|'qName'|'nmToken'|'nmTokens'} production
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 * @returns {{ valid: boolean, production: string, input: string, reason?: string, position?: number }}
 */
const validate = (str, production, { xmlVersion = '1.0', asciiOnly = false } = {}) => {
  if (!PRODUCTIONS.includes(production)) {
    throw new TypeError(
      `Unknown production "${production}". Must be one of: ${PRODUCTIONS.join(', ')}`
    );
  }

  const validators = { name: src_name, ncName, qName, nmToken, nmTokens };
  const isValid = validators[production](str, { xmlVersion, asciiOnly });

  if (isValid) return { valid: true, production, input: str };

  let reason = 'Does not match the production rules';
  let position;

  // Diagnostic fallback char checks must mirror the same character set the
  // boolean validator above used, or the reported reason/position could
  // contradict the `valid: false` result (e.g. flagging a char as illegal
  // that the unicode-aware check would have accepted).
  const startCharPattern = asciiOnly ? /^[:A-Za-z_]/ : /^[:A-Za-z_\u00C0-\uFFFD]/;
  const namePattern = asciiOnly ? /[\w\-\\.:]/ : /[\w\-\\.:\u00B7\u00C0-\uFFFD]/;

  if (str.length === 0) {
    reason = 'Input is empty';
  } else if (production === 'ncName' && str.includes(':')) {
    position = str.indexOf(':');
    reason = 'Colon is not allowed in NCName';
  } else if (production === 'qName' && str.startsWith(':')) {
    reason = 'QName cannot start with a colon';
    position = 0;
  } else if (production === 'qName' && str.endsWith(':')) {
    reason = 'QName cannot end with a colon';
    position = str.length - 1;
  } else if (production === 'qName' && (str.match(/:/g) || []).length > 1) {
    reason = 'QName can have at most one colon';
    position = str.lastIndexOf(':');
  } else if (
    ['name', 'ncName', 'qName'].includes(production) &&
    !startCharPattern.test(str[0])
  ) {
    reason = `First character "${str[0]}" is not a valid NameStartChar`;
    position = 0;
  } else {
    for (let i = 0; i < str.length; i++) {
      if (!namePattern.test(str[i])) {
        reason = `Character "${str[i]}" at position ${i} is not a valid NameChar`;
        position = i;
        break;
      }
    }
  }

  return { valid: false, production, input: str, reason, position };
};

// ---------------------------------------------------------------------------
// Batch validator
// ---------------------------------------------------------------------------

/**
 * Validates an array of strings against a named production.
 *
 * @param {string[]} strings
 * @param {'name'|'ncName'|'qName'|'nmToken'|'nmTokens'} production
 * @param {{ xmlVersion?: '1.0'|'1.1', asciiOnly?: boolean }} [opts]
 * @returns {Array<{ valid: boolean, production: string, input: string, reason?: string, position?: number }>}
 */
const validateAll = (strings, production, opts = {}) =>
  strings.map(str => validate(str, production, opts));

// ---------------------------------------------------------------------------
// Sanitizer
// ---------------------------------------------------------------------------

/**
 * Transforms an invalid string into the nearest valid XML name for the given production.
 *
 * @param {string} str
 * @param {'name'|'ncName'|'qName'|'nmToken'|'nmTokens'} production
 * @param {{ replacement?: string, asciiOnly?: boolean }} [opts]
 *   asciiOnly: also replace any non-ASCII character, not just XML-illegal
 *   ones (default false).
 * @returns {string}
 */
const sanitize = (str, production = 'name', { replacement = '_', asciiOnly = false } = {}) => {
  if (!str) return replacement;

  let result = str;

  // Strip colons for NCName
  if (production === 'ncName') {
    result = result.replace(/:/g, '');
  }

  // Replace illegal characters
  const allowedCharPattern = asciiOnly ? /[^\w\-\.:]/g : /[^\w\-\.:\u00B7\u00C0-\uFFFD]/g;
  result = result.replace(allowedCharPattern, replacement);

  // Fix invalid start character for Name / NCName / QName
  if (production !== 'nmToken' && production !== 'nmTokens') {
    if (/^[\-\.\d]/.test(result)) {
      result = replacement + result;
    }
  }

  return result || replacement;
};
;// CONCATENATED MODULE: ./node_modules/fast-xml-builder/src/orderedJs2Xml.js




const EOL = "\n";

/**
 * Detect XML version from the first element of the ordered array input.
 * The first element must be a ?xml processing instruction with a version attribute.
 * Returns '1.0' if not found.
 *
 * @param {array}  jArray
 * @param {object} options
 */
function detectXmlVersionFromArray(jArray, options) {
    if (!Array.isArray(jArray) || jArray.length === 0) return '1.0';
    const first = jArray[0];
    const firstKey = propName(first);
    if (firstKey === '?xml') {
        const attrs = first[':@'];
        if (attrs) {
            const versionKey = options.attributeNamePrefix + 'version';
            if (attrs[versionKey]) return attrs[versionKey];
        }
    }
    return '1.0';
}

/**
 * @param {array} jArray
 * @param {any} options
 * @returns
 */
function toXml(jArray, options) {
    let indentation = "";
    if (options.format) {
        indentation = EOL;
    }

    // Pre-compile stopNode expressions for pattern matching
    const stopNodeExpressions = [];
    if (options.stopNodes && Array.isArray(options.stopNodes)) {
        for (let i = 0; i < options.stopNodes.length; i++) {
            const node = options.stopNodes[i];
            if (typeof node === 'string') {
                stopNodeExpressions.push(new Expression(node));
            } else if (node instanceof Expression) {
                stopNodeExpressions.push(node);
            }
        }
    }

    // Detect XML version for use in name validation
    const xmlVersion = detectXmlVersionFromArray(jArray, options);
    const qNameValidator = createValidator('qName', { xmlVersion });
    // Initialize matcher for path tracking
    const matcher = new Matcher();

    return arrToStr(jArray, options, indentation, matcher, stopNodeExpressions, qNameValidator);
}

function arrToStr(arr, options, indentation, matcher, stopNodeExpressions, qNameValidator) {
    let xmlStr = "";
    let isPreviousElementTag = false;

    if (options.maxNestedTags && matcher.getDepth() > options.maxNestedTags) {
        throw new Error("Maximum nested tags exceeded");
    }

    if (!Array.isArray(arr)) {
        // Non-array values (e.g. string tag values) should be treated as text content
        if (arr !== undefined && arr !== null) {
            let text = valToStr(arr);
            text = replaceEntitiesValue(text, options);
            return text;
        }
        return "";
    }

    for (let i = 0; i < arr.length; i++) {
        const tagObj = arr[i];
        const rawTagName = propName(tagObj);
        if (rawTagName === undefined) continue;

        // Special names are exempt from sanitizeName: internal conventions and PI tags
        // are not user-supplied XML element names.
        const isSpecialName = rawTagName === options.textNodeName
            || rawTagName === options.cdataPropName
            || rawTagName === options.commentPropName;
        //|| rawTagName[0] === '?';

        // Resolve tag name (may transform it; may throw for invalid names)
        const tagName = isSpecialName
            ? rawTagName
            : resolveName(rawTagName, false, options, matcher, qNameValidator);

        // Extract attributes from ":@" property
        const attrValues = extractAttributeValues(tagObj[":@"], options);

        // Push resolved tag to matcher WITH attributes
        matcher.push(tagName, attrValues);

        // Check if this is a stop node using Expression matching
        const isStopNode = checkStopNode(matcher, stopNodeExpressions);

        if (tagName === options.textNodeName) {
            let tagText = tagObj[rawTagName];
            if (!isStopNode) {
                tagText = options.tagValueProcessor(tagName, tagText);
                tagText = replaceEntitiesValue(tagText, options);
            }
            tagText = valToStr(tagText);
            if (isPreviousElementTag) {
                xmlStr += indentation;
            }
            xmlStr += tagText;
            isPreviousElementTag = false;
            matcher.pop();
            continue;
        } else if (tagName === options.cdataPropName) {
            if (isPreviousElementTag) {
                xmlStr += indentation;
            }
            const val = tagObj[rawTagName][0][options.textNodeName];
            const safeVal = safeCdata(val);
            xmlStr += `<![CDATA[${safeVal}]]>`;
            isPreviousElementTag = false;
            matcher.pop();
            continue;
        } else if (tagName === options.commentPropName) {
            const val = tagObj[rawTagName][0][options.textNodeName];
            const safeVal = safeComment(val);
            xmlStr += indentation + `<!--${safeVal}-->`;
            isPreviousElementTag = true;
            matcher.pop();
            continue;
        } else if (tagName[0] === "?") {
            const attStr = attr_to_str(tagObj[":@"], options, isStopNode, matcher, qNameValidator);
            const tempInd = tagName === "?xml" ? "" : indentation;
            // Text node content on PI/XML declaration tags is intentionally ignored.
            // Only attributes are valid on these tags per the XML spec.
            xmlStr += tempInd + `<${tagName}${attStr}?>`;
            isPreviousElementTag = true;
            matcher.pop();
            continue;
        }

        let newIdentation = indentation;
        if (newIdentation !== "") {
            newIdentation += options.indentBy;
        }

        // Pass isStopNode to attr_to_str so attributes are also not processed for stopNodes
        const attStr = attr_to_str(tagObj[":@"], options, isStopNode, matcher, qNameValidator);
        const tagStart = indentation + `<${tagName}${attStr}`;

        // If this is a stopNode, get raw content without processing
        let tagValue;
        if (isStopNode) {
            tagValue = getRawContent(tagObj[rawTagName], options, matcher.getDepth());
        } else {
            tagValue = arrToStr(tagObj[rawTagName], options, newIdentation, matcher, stopNodeExpressions, qNameValidator);
        }

        if (options.unpairedTags.indexOf(tagName) !== -1) {
            if (options.suppressUnpairedNode) xmlStr += tagStart + ">";
            else xmlStr += tagStart + "/>";
        } else if ((!tagValue || tagValue.length === 0) && options.suppressEmptyNode) {
            xmlStr += tagStart + "/>";
        } else if (tagValue && tagValue.endsWith(">")) {
            xmlStr += tagStart + `>${tagValue}${indentation}</${tagName}>`;
        } else {
            xmlStr += tagStart + ">";
            if (tagValue && indentation !== "" && (tagValue.includes("/>") || tagValue.includes("</"))) {
                xmlStr += indentation + options.indentBy + tagValue + indentation;
            } else {
                xmlStr += tagValue;
            }
            xmlStr += `</${tagName}>`;
        }
        isPreviousElementTag = true;

        // Pop tag from matcher
        matcher.pop();
    }

    return xmlStr;
}

/**
 * Extract attribute values from the ":@" object and return as plain object
 * for passing to matcher.push()
 */
function extractAttributeValues(attrMap, options) {
    if (!attrMap || options.ignoreAttributes) return null;

    const attrValues = {};
    let hasAttrs = false;

    for (let attr in attrMap) {
        if (!Object.prototype.hasOwnProperty.call(attrMap, attr)) continue;
        // Remove the attribute prefix to get clean attribute name
        const cleanAttrName = attr.startsWith(options.attributeNamePrefix)
            ? attr.substr(options.attributeNamePrefix.length)
            : attr;
        attrValues[cleanAttrName] = escapeAttribute(attrMap[attr]);
        hasAttrs = true;
    }

    return hasAttrs ? attrValues : null;
}

/**
 * Extract raw content from a stopNode without any processing
 * This preserves the content exactly as-is, including special characters
 */
function getRawContent(arr, options, depth = 0) {
    if (options.maxNestedTags && depth > options.maxNestedTags) {
        throw new Error("Maximum nested tags exceeded");
    }
    if (!Array.isArray(arr)) {
        // Non-array values return as-is
        if (arr !== undefined && arr !== null) {
            return valToStr(arr);
        }
        return "";
    }

    let content = "";
    for (let i = 0; i < arr.length; i++) {
        const item = arr[i];
        const tagName = propName(item);

        if (tagName === options.textNodeName) {
            // Raw text content - NO processing, NO entity replacement
            content += valToStr(item[tagName]);
        } else if (tagName === options.cdataPropName) {
            // CDATA content
            content += item[tagName][0][options.textNodeName];
        } else if (tagName === options.commentPropName) {
            // Comment content
            content += item[tagName][0][options.textNodeName];
        } else if (tagName && tagName[0] === "?") {
            // Processing instruction - skip for stopNodes
            continue;
        } else if (tagName) {
            // Nested tags within stopNode — no sanitizeName, content is raw
            const attStr = attr_to_str_raw(item[":@"], options);
            const nestedContent = getRawContent(item[tagName], options, depth + 1);

            if (!nestedContent || nestedContent.length === 0) {
                content += `<${tagName}${attStr}/>`;
            } else {
                content += `<${tagName}${attStr}>${nestedContent}</${tagName}>`;
            }
        }
    }
    return content;
}

/**
 * Build attribute string for stopNodes - NO entity replacement
 */
function attr_to_str_raw(attrMap, options) {
    let attrStr = "";
    if (attrMap && !options.ignoreAttributes) {
        for (let attr in attrMap) {
            if (!Object.prototype.hasOwnProperty.call(attrMap, attr)) continue;
            // For stopNodes, use raw value without processing
            let attrVal = attrMap[attr];
            if (attrVal === true && options.suppressBooleanAttributes) {
                attrStr += ` ${attr.substr(options.attributeNamePrefix.length)}`;
            } else {
                attrStr += ` ${attr.substr(options.attributeNamePrefix.length)}="${escapeAttribute(attrVal)}"`;
            }
        }
    }
    return attrStr;
}

function propName(obj) {
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
        if (key !== ":@") return key;
    }
}

/**
 * Build attribute string, resolving attribute names through sanitizeName when configured.
 * Accepts matcher so the callback has path context.
 */
function attr_to_str(attrMap, options, isStopNode, matcher, qNameValidator) {
    let attrStr = "";
    if (attrMap && !options.ignoreAttributes) {
        for (let attr in attrMap) {
            if (!Object.prototype.hasOwnProperty.call(attrMap, attr)) continue;

            // Strip prefix to get the clean XML attribute name, then optionally sanitize it
            const cleanAttrName = attr.substr(options.attributeNamePrefix.length);
            const resolvedAttrName = isStopNode
                ? cleanAttrName  // stopNodes are raw — skip sanitizeName for attr names too
                : resolveName(cleanAttrName, true, options, matcher, qNameValidator);

            let attrVal;
            if (isStopNode) {
                // For stopNodes, use raw value without any processing
                attrVal = attrMap[attr];
            } else {
                // Normal processing: apply attributeValueProcessor and entity replacement
                attrVal = options.attributeValueProcessor(attr, attrMap[attr]);
                attrVal = replaceEntitiesValue(attrVal, options);
            }

            if (attrVal === true && options.suppressBooleanAttributes) {
                attrStr += ` ${resolvedAttrName}`;
            } else {
                attrStr += ` ${resolvedAttrName}="${escapeAttribute(attrVal)}"`;
            }
        }
    }
    return attrStr;
}

function checkStopNode(matcher, stopNodeExpressions) {
    if (!stopNodeExpressions || stopNodeExpressions.length === 0) return false;

    for (let i = 0; i < stopNodeExpressions.length; i++) {
        if (matcher.matches(stopNodeExpressions[i])) {
            return true;
        }
    }
    return false;
}

function replaceEntitiesValue(textValue, options) {
    if (textValue && textValue.length > 0 && options.processEntities) {
        for (let i = 0; i < options.entities.length; i++) {
            const entity = options.entities[i];
            textValue = textValue.replace(entity.regex, entity.val);
        }
    }
    return textValue;
}
;// CONCATENATED MODULE: ./node_modules/fast-xml-builder/src/ignoreAttributes.js
function getIgnoreAttributesFn(ignoreAttributes) {
    if (typeof ignoreAttributes === 'function') {
        return ignoreAttributes
    }
    if (Array.isArray(ignoreAttributes)) {
        return (attrName) => {
            for (const pattern of ignoreAttributes) {
                if (typeof pattern === 'string' && attrName === pattern) {
                    return true
                }
                if (pattern instanceof RegExp && pattern.test(attrName)) {
                    return true
                }
            }
        }
    }
    return () => false
}
;// CONCATENATED MODULE: ./node_modules/fast-xml-builder/src/fxb.js

//parse Empty Node as self closing node






const defaultOptions = {
  attributeNamePrefix: '@_',
  attributesGroupName: false,
  textNodeName: '#text',
  ignoreAttributes: true,
  cdataPropName: false,
  format: false,
  indentBy: '  ',
  suppressEmptyNode: false,
  suppressUnpairedNode: true,
  suppressBooleanAttributes: true,
  tagValueProcessor: function (key, a) {
    return a;
  },
  attributeValueProcessor: function (attrName, a) {
    return a;
  },
  preserveOrder: false,
  commentPropName: false,
  unpairedTags: [],
  entities: [
    { regex: new RegExp("&", "g"), val: "&amp;" },//it must be on top
    { regex: new RegExp(">", "g"), val: "&gt;" },
    { regex: new RegExp("<", "g"), val: "&lt;" },
    { regex: new RegExp("\'", "g"), val: "&apos;" },
    { regex: new RegExp("\"", "g"), val: "&quot;" }
  ],
  processEntities: true,
  stopNodes: [],
  // transformTagName: false,
  // transformAttributeName: false,
  oneListGroup: false,
  maxNestedTags: 100,
  jPath: true,  // When true, callbacks receive string jPath; when false, receive Matcher instance
  sanitizeName: false  // false = allow all names as-is (default, backward-compatible).
  // Set to a function (name, { isAttribute, matcher }) => string to
  // validate/sanitize tag and attribute names. Throw inside the function
  // to reject an invalid name.
};

function Builder(options) {
  this.options = Object.assign({}, defaultOptions, options);

  // Convert old-style stopNodes for backward compatibility
  // Old syntax: "*.tag" meant "tag anywhere in tree"
  // New syntax: "..tag" means "tag anywhere in tree"
  if (this.options.stopNodes && Array.isArray(this.options.stopNodes)) {
    this.options.stopNodes = this.options.stopNodes.map(node => {
      if (typeof node === 'string' && node.startsWith('*.')) {
        // Convert old wildcard syntax to deep wildcard
        return '..' + node.substring(2);
      }
      return node;
    });
  }

  // Pre-compile stopNode expressions for pattern matching
  this.stopNodeExpressions = [];
  if (this.options.stopNodes && Array.isArray(this.options.stopNodes)) {
    for (let i = 0; i < this.options.stopNodes.length; i++) {
      const node = this.options.stopNodes[i];
      if (typeof node === 'string') {
        this.stopNodeExpressions.push(new Expression(node));
      } else if (node instanceof Expression) {
        this.stopNodeExpressions.push(node);
      }
    }
  }

  if (this.options.ignoreAttributes === true || this.options.attributesGroupName) {
    this.isAttribute = function (/*a*/) {
      return false;
    };
  } else {
    this.ignoreAttributesFn = getIgnoreAttributesFn(this.options.ignoreAttributes)
    this.attrPrefixLen = this.options.attributeNamePrefix.length;
    this.isAttribute = isAttribute;
  }

  this.processTextOrObjNode = processTextOrObjNode

  if (this.options.format) {
    this.indentate = indentate;
    this.tagEndChar = '>\n';
    this.newLine = '\n';
  } else {
    this.indentate = function () {
      return '';
    };
    this.tagEndChar = '>';
    this.newLine = '';
  }
}

/**
 * Detect XML version from the ?xml declaration at the root of a plain-object input.
 * Checks both attributesGroupName and flat attribute forms.
 * Returns '1.0' if no declaration is found.
 */
function detectXmlVersionFromObj(jObj, options) {
  const decl = jObj['?xml'];
  if (decl && typeof decl === 'object') {
    // attributesGroupName path e.g. { '$$': { '@_version': '1.1' } }
    if (options.attributesGroupName && decl[options.attributesGroupName]) {
      const v = decl[options.attributesGroupName][options.attributeNamePrefix + 'version'];
      if (v) return v;
    }
    // flat attribute path e.g. { '@_version': '1.1' }
    const v = decl[options.attributeNamePrefix + 'version'];
    if (v) return v;
  }
  return '1.0';
}

Builder.prototype.build = function (jObj) {
  if (this.options.preserveOrder) {
    return toXml(jObj, this.options);
  } else {
    if (Array.isArray(jObj) && this.options.arrayNodeName && this.options.arrayNodeName.length > 1) {
      jObj = {
        [this.options.arrayNodeName]: jObj
      }
    }
    // Initialize matcher for path tracking
    const matcher = new Matcher();
    const xmlVersion = detectXmlVersionFromObj(jObj, this.options);
    const qNameValidator = createValidator('qName', { xmlVersion });
    return this.j2x(jObj, 0, matcher, qNameValidator).val;
  }
};

Builder.prototype.j2x = function (jObj, level, matcher, qNameValidator) {
  let attrStr = '';
  let val = '';
  if (this.options.maxNestedTags && matcher.getDepth() >= this.options.maxNestedTags) {
    throw new Error("Maximum nested tags exceeded");
  }
  // Get jPath based on option: string for backward compatibility, or Matcher for new features
  const jPath = this.options.jPath ? matcher.toString() : matcher;

  // Check if current node is a stopNode (will be used for attribute encoding)
  const isCurrentStopNode = this.checkStopNode(matcher);

  for (let key in jObj) {
    if (!Object.prototype.hasOwnProperty.call(jObj, key)) continue;

    // Resolve the key through sanitizeName before any use.
    // Special keys (textNodeName, cdataPropName, commentPropName, attributeNamePrefix,
    // attributesGroupName, "?" PI tags) are exempt — they are builder-internal conventions,
    // not user-supplied XML names.
    const isSpecialKey = key === this.options.textNodeName
      || key === this.options.cdataPropName
      || key === this.options.commentPropName
      || (this.options.attributesGroupName && key === this.options.attributesGroupName)
      || this.isAttribute(key);
    //|| key[0] === '?';

    const resolvedKey = isSpecialKey
      ? key
      : resolveName(key, false, this.options, matcher, qNameValidator);

    if (typeof jObj[key] === 'undefined') {
      // supress undefined node only if it is not an attribute
      if (this.isAttribute(key)) {
        val += '';
      }
    } else if (jObj[key] === null) {
      // null attribute should be ignored by the attribute list, but should not cause the tag closing
      if (this.isAttribute(key)) {
        val += '';
      } else if (resolvedKey === this.options.cdataPropName || resolvedKey === this.options.commentPropName) {
        val += '';
      } else if (resolvedKey[0] === '?') {
        val += this.indentate(level) + '<' + resolvedKey + '?' + this.tagEndChar;
      } else {
        val += this.indentate(level) + '<' + resolvedKey + '/' + this.tagEndChar;
      }
    } else if (jObj[key] instanceof Date) {
      val += this.buildTextValNode(jObj[key], resolvedKey, '', level, matcher);
    } else if (typeof jObj[key] !== 'object') {
      //premitive type
      const attr = this.isAttribute(key);
      if (attr && !this.ignoreAttributesFn(attr, jPath)) {
        // Resolve the attribute name through sanitizeName
        const resolvedAttr = resolveName(attr, true, this.options, matcher, qNameValidator);
        attrStr += this.buildAttrPairStr(resolvedAttr, valToStr(jObj[key]), isCurrentStopNode);
      } else if (!attr) {
        //tag value
        if (key === this.options.textNodeName) {
          let newval = this.options.tagValueProcessor(key, valToStr(jObj[key]));
          val += this.replaceEntitiesValue(newval);
        } else {
          // Check if this is a stopNode before building
          matcher.push(resolvedKey);
          const isStopNode = this.checkStopNode(matcher);
          matcher.pop();

          if (isStopNode) {
            // Build as raw content without encoding
            const textValue = valToStr(jObj[key]);
            if (textValue === '') {
              val += this.indentate(level) + '<' + resolvedKey + this.closeTag(resolvedKey) + this.tagEndChar;
            } else {
              val += this.indentate(level) + '<' + resolvedKey + '>' + textValue + '</' + resolvedKey + this.tagEndChar;
            }
          } else {
            val += this.buildTextValNode(jObj[key], resolvedKey, '', level, matcher);
          }
        }
      }
    } else if (Array.isArray(jObj[key])) {
      //repeated nodes
      const arrLen = jObj[key].length;
      let listTagVal = "";
      let listTagAttr = "";
      for (let j = 0; j < arrLen; j++) {
        const item = jObj[key][j];
        if (typeof item === 'undefined') {
          // supress undefined node
        } else if (item === null) {
          if (resolvedKey[0] === "?") val += this.indentate(level) + '<' + resolvedKey + '?' + this.tagEndChar;
          else val += this.indentate(level) + '<' + resolvedKey + '/' + this.tagEndChar;
        } else if (typeof item === 'object') {
          if (this.options.oneListGroup) {
            // Push tag to matcher before recursive call
            matcher.push(resolvedKey);
            const result = this.j2x(item, level + 1, matcher, qNameValidator);
            // Pop tag from matcher after recursive call
            matcher.pop();

            listTagVal += result.val;
            if (this.options.attributesGroupName && item.hasOwnProperty(this.options.attributesGroupName)) {
              listTagAttr += result.attrStr
            }
          } else {
            listTagVal += this.processTextOrObjNode(item, resolvedKey, level, matcher, qNameValidator)
          }
        } else {
          if (this.options.oneListGroup) {
            let textValue = this.options.tagValueProcessor(resolvedKey, item);
            textValue = this.replaceEntitiesValue(textValue);
            textValue = valToStr(textValue);
            listTagVal += textValue;
          } else {
            // Check if this is a stopNode before building
            matcher.push(resolvedKey);
            const isStopNode = this.checkStopNode(matcher);
            matcher.pop();

            if (isStopNode) {
              // Build as raw content without encoding
              const textValue = valToStr(item);
              if (textValue === '') {
                listTagVal += this.indentate(level) + '<' + resolvedKey + this.closeTag(resolvedKey) + this.tagEndChar;
              } else {
                listTagVal += this.indentate(level) + '<' + resolvedKey + '>' + textValue + '</' + resolvedKey + this.tagEndChar;
              }
            } else {
              listTagVal += this.buildTextValNode(item, resolvedKey, '', level, matcher);
            }
          }
        }
      }
      if (this.options.oneListGroup) {
        listTagVal = this.buildObjectNode(listTagVal, resolvedKey, listTagAttr, level);
      }
      val += listTagVal;
    } else {
      //nested node
      if (this.options.attributesGroupName && key === this.options.attributesGroupName) {
        const Ks = Object.keys(jObj[key]);
        const L = Ks.length;
        for (let j = 0; j < L; j++) {
          // Resolve attribute names inside attributesGroupName
          const resolvedAttr = resolveName(Ks[j], true, this.options, matcher, qNameValidator);
          attrStr += this.buildAttrPairStr(resolvedAttr, valToStr(jObj[key][Ks[j]]), isCurrentStopNode);
        }
      } else {
        val += this.processTextOrObjNode(jObj[key], resolvedKey, level, matcher, qNameValidator)
      }
    }
  }
  return { attrStr: attrStr, val: val };
};

Builder.prototype.buildAttrPairStr = function (attrName, val, isStopNode) {
  if (!isStopNode) {
    val = this.options.attributeValueProcessor(attrName, valToStr(val));
    val = this.replaceEntitiesValue(val);
  }
  if (this.options.suppressBooleanAttributes && val === "true") {
    return ' ' + attrName;
  } else return ' ' + attrName + '="' + escapeAttribute(val) + '"';
}

function processTextOrObjNode(object, key, level, matcher, qNameValidator) {
  // Extract attributes to pass to matcher
  const attrValues = this.extractAttributes(object);

  // Push tag to matcher before recursion WITH attributes
  matcher.push(key, attrValues);

  // Check if this entire node is a stopNode
  const isStopNode = this.checkStopNode(matcher);

  if (isStopNode) {
    // For stopNodes, build raw content without entity encoding
    const rawContent = this.buildRawContent(object, matcher.getDepth());
    const attrStr = this.buildAttributesForStopNode(object);
    matcher.pop();
    return this.buildObjectNode(rawContent, key, attrStr, level);
  }

  const result = this.j2x(object, level + 1, matcher, qNameValidator);
  // Pop tag from matcher after recursion
  matcher.pop();

  // PI/XML-declaration tags must never emit text content — route through
  // buildTextValNode which correctly ignores the text node for "?" tags.
  if (key[0] === '?') {
    return this.buildTextValNode('', key, result.attrStr, level, matcher);
  } else if (object[this.options.textNodeName] !== undefined && Object.keys(object).length === 1) {
    return this.buildTextValNode(object[this.options.textNodeName], key, result.attrStr, level, matcher);
  } else {
    return this.buildObjectNode(result.val, key, result.attrStr, level);
  }
}

// Helper method to extract attributes from an object
Builder.prototype.extractAttributes = function (obj) {
  if (!obj || typeof obj !== 'object') return null;

  const attrValues = {};
  let hasAttrs = false;

  // Check for attributesGroupName (when attributes are grouped)
  if (this.options.attributesGroupName && obj[this.options.attributesGroupName]) {
    const attrGroup = obj[this.options.attributesGroupName];
    for (let attrKey in attrGroup) {
      if (!Object.prototype.hasOwnProperty.call(attrGroup, attrKey)) continue;
      // Remove attribute prefix if present
      const cleanKey = attrKey.startsWith(this.options.attributeNamePrefix)
        ? attrKey.substring(this.options.attributeNamePrefix.length)
        : attrKey;
      attrValues[cleanKey] = escapeAttribute(attrGroup[attrKey]);
      hasAttrs = true;
    }
  } else {
    // Look for individual attributes (prefixed with attributeNamePrefix)
    for (let key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      const attr = this.isAttribute(key);
      if (attr) {
        attrValues[attr] = escapeAttribute(obj[key]);
        hasAttrs = true;
      }
    }
  }

  return hasAttrs ? attrValues : null;
};

// Build raw content for stopNode without entity encoding
Builder.prototype.buildRawContent = function (obj, depth = 0) {
  if (this.options.maxNestedTags && depth >= this.options.maxNestedTags) {
    throw new Error("Maximum nested tags exceeded");
  }
  if (typeof obj === 'string') {
    return obj; // Already a string, return as-is
  }

  if (typeof obj !== 'object' || obj === null) {
    return String(obj);
  }

  // Check if this is a stopNode data from parser: { "#text": "raw xml", "@_attr": "val" }
  if (obj[this.options.textNodeName] !== undefined) {
    return obj[this.options.textNodeName]; // Return raw text without encoding
  }

  // Build raw XML from nested structure
  let content = '';

  for (let key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;

    // Skip attributes
    if (this.isAttribute(key)) continue;
    if (this.options.attributesGroupName && key === this.options.attributesGroupName) continue;

    const value = obj[key];

    if (key === this.options.textNodeName) {
      content += value; // Raw text
    } else if (Array.isArray(value)) {
      // Array of same tag
      for (let item of value) {
        if (typeof item === 'string' || typeof item === 'number') {
          content += `<${key}>${item}</${key}>`;
        } else if (typeof item === 'object' && item !== null) {
          const nestedContent = this.buildRawContent(item, depth + 1);
          const nestedAttrs = this.buildAttributesForStopNode(item);
          if (nestedContent === '') {
            content += `<${key}${nestedAttrs}/>`;
          } else {
            content += `<${key}${nestedAttrs}>${nestedContent}</${key}>`;
          }
        }
      }
    } else if (typeof value === 'object' && value !== null) {
      // Nested object
      const nestedContent = this.buildRawContent(value, depth + 1);
      const nestedAttrs = this.buildAttributesForStopNode(value);
      if (nestedContent === '') {
        content += `<${key}${nestedAttrs}/>`;
      } else {
        content += `<${key}${nestedAttrs}>${nestedContent}</${key}>`;
      }
    } else {
      // Primitive value
      content += `<${key}>${value}</${key}>`;
    }
  }

  return content;
};

// Build attribute string for stopNode (no entity encoding)
Builder.prototype.buildAttributesForStopNode = function (obj) {
  if (!obj || typeof obj !== 'object') return '';

  let attrStr = '';

  // Check for attributesGroupName (when attributes are grouped)
  if (this.options.attributesGroupName && obj[this.options.attributesGroupName]) {
    const attrGroup = obj[this.options.attributesGroupName];
    for (let attrKey in attrGroup) {
      if (!Object.prototype.hasOwnProperty.call(attrGroup, attrKey)) continue;
      const cleanKey = attrKey.startsWith(this.options.attributeNamePrefix)
        ? attrKey.substring(this.options.attributeNamePrefix.length)
        : attrKey;
      const val = attrGroup[attrKey];
      if (val === true && this.options.suppressBooleanAttributes) {
        attrStr += ' ' + cleanKey;
      } else {
        // stopNode content is raw, but the quote delimiter is always escaped
        // so a quote in the value cannot break out of the attribute (see orderedJs2Xml attr_to_str)
        attrStr += ' ' + cleanKey + '="' + escapeAttribute(val) + '"';
      }
    }
  } else {
    // Look for individual attributes
    for (let key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      const attr = this.isAttribute(key);
      if (attr) {
        const val = obj[key];
        if (val === true && this.options.suppressBooleanAttributes) {
          attrStr += ' ' + attr;
        } else {
          // stopNode content is raw, but the quote delimiter is always escaped
          // so a quote in the value cannot break out of the attribute (see orderedJs2Xml attr_to_str)
          attrStr += ' ' + attr + '="' + escapeAttribute(val) + '"';
        }
      }
    }
  }

  return attrStr;
};

Builder.prototype.buildObjectNode = function (val, key, attrStr, level) {
  if (val === "") {
    if (key[0] === "?") return this.indentate(level) + '<' + key + attrStr + '?' + this.tagEndChar;
    else {
      return this.indentate(level) + '<' + key + attrStr + this.closeTag(key) + this.tagEndChar;
    }
  } else if (key[0] === "?") {
    // PI/XML-declaration tags never have body content — treat them like empty.
    return this.indentate(level) + '<' + key + attrStr + '?' + this.tagEndChar;
  } else {
    let tagEndExp = '</' + key + this.tagEndChar;
    let piClosingChar = "";

    if (key[0] === "?") {
      piClosingChar = "?";
      tagEndExp = "";
    }

    // attrStr is an empty string in case the attribute came as undefined or null
    if ((attrStr || attrStr === '') && val.indexOf('<') === -1) {
      return (this.indentate(level) + '<' + key + attrStr + piClosingChar + '>' + val + tagEndExp);
    } else if (this.options.commentPropName !== false && key === this.options.commentPropName && piClosingChar.length === 0) {
      return this.indentate(level) + `<!--${safeComment(val)}-->` + this.newLine;
    } else {
      return (
        this.indentate(level) + '<' + key + attrStr + piClosingChar + this.tagEndChar +
        val +
        this.indentate(level) + tagEndExp);
    }
  }
}

Builder.prototype.closeTag = function (key) {
  let closeTag = "";
  if (this.options.unpairedTags.indexOf(key) !== -1) { //unpaired
    if (!this.options.suppressUnpairedNode) closeTag = "/"
  } else if (this.options.suppressEmptyNode) { //empty
    closeTag = "/";
  } else {
    closeTag = `></${key}`
  }
  return closeTag;
}

Builder.prototype.checkStopNode = function (matcher) {
  if (!this.stopNodeExpressions || this.stopNodeExpressions.length === 0) return false;

  for (let i = 0; i < this.stopNodeExpressions.length; i++) {
    if (matcher.matches(this.stopNodeExpressions[i])) {
      return true;
    }
  }
  return false;
}

function buildEmptyObjNode(val, key, attrStr, level) {
  if (val !== '') {
    return this.buildObjectNode(val, key, attrStr, level);
  } else {
    if (key[0] === "?") return this.indentate(level) + '<' + key + attrStr + '?' + this.tagEndChar;
    else {
      return this.indentate(level) + '<' + key + attrStr + '/' + this.tagEndChar;
    }
  }
}

Builder.prototype.buildTextValNode = function (val, key, attrStr, level, matcher) {
  if (this.options.cdataPropName !== false && key === this.options.cdataPropName) {
    const safeVal = safeCdata(val);
    return this.indentate(level) + `<![CDATA[${safeVal}]]>` + this.newLine;
  } else if (this.options.commentPropName !== false && key === this.options.commentPropName) {
    const safeVal = safeComment(val);
    return this.indentate(level) + `<!--${safeVal}-->` + this.newLine;
  } else if (key[0] === "?") {//PI tag
    return this.indentate(level) + '<' + key + attrStr + '?' + this.tagEndChar;
  } else {
    // Normal processing: apply tagValueProcessor and entity replacement
    let textValue = this.options.tagValueProcessor(key, val);
    textValue = this.replaceEntitiesValue(textValue);
    // tagValueProcessor may return the raw value unchanged (default is identity), and
    // replaceEntitiesValue no-ops on non-strings, so a plain number can still reach here;
    // stringify it now, sign-preserving, before it's implicitly ToString'd below.
    textValue = valToStr(textValue);

    if (textValue === '') {
      return this.indentate(level) + '<' + key + attrStr + this.closeTag(key) + this.tagEndChar;
    } else {
      return this.indentate(level) + '<' + key + attrStr + '>' +
        textValue +
        '</' + key + this.tagEndChar;
    }
  }
}

Builder.prototype.replaceEntitiesValue = function (textValue) {
  if (textValue && textValue.length > 0 && this.options.processEntities) {
    for (let i = 0; i < this.options.entities.length; i++) {
      const entity = this.options.entities[i];
      textValue = textValue.replace(entity.regex, entity.val);
    }
  }
  return textValue;
}

function indentate(level) {
  return this.options.indentBy.repeat(level);
}

function isAttribute(name /*, options*/) {
  if (name.startsWith(this.options.attributeNamePrefix) && name !== this.options.textNodeName) {
    return name.substr(this.attrPrefixLen);
  } else {
    return false;
  }
}
;// CONCATENATED MODULE: ./node_modules/fast-xml-parser/src/xmlbuilder/json2xml.js
// Re-export from fast-xml-builder for backward compatibility

/* harmony default export */ const json2xml = (Builder);

// If there are any named exports you also want to re-export:

;// CONCATENATED MODULE: ./src/report/junit.ts
/**
 * The JUnit XML report for GitLab's test widget, Jenkins' `junit` step and GitHub test reporters:
 * a `policy` suite with one testcase per rule, then one suite per judged evaluation with one
 * testcase per dataset row. Pure; built with fast-xml-parser's XMLBuilder, valid against Jenkins'
 * junit-10.xsd and its older junit-4.xsd for any input text.
 */

/** The suite that holds one testcase per rule. */
const POLICY_SUITE = 'policy';
/** Longest `message` attribute, in characters; the full text is the element's text. */
const MESSAGE_MAX = 200;
/** The testcase standing for an evaluation whose rows were not fetched. */
const RUNS_TESTCASE = 'all runs (rows not fetched)';
/** The JUnit XML document, UTF-8, for the judged policy and evaluations. */
function buildJUnit(input) {
    const policy = suite(POLICY_SUITE, [], input.rules.map(ruleCase), undefined);
    const evaluations = input.evaluations.map(evaluationSuite);
    const suites = [policy, ...evaluations];
    const total = suites.reduce((sum, { counts }) => ({
        tests: sum.tests + counts.tests,
        failures: sum.failures + counts.failures,
        errors: sum.errors + counts.errors
    }), { tests: 0, failures: 0, errors: 0 });
    // junit-10.xsd allows only these five on <testsuites>: no `skipped`, which some builders add
    const root = {
        '@name': input.name,
        '@tests': count(total.tests),
        '@failures': count(total.failures),
        '@errors': count(total.errors)
    };
    if (input.time !== undefined && Number.isFinite(input.time))
        root['@time'] = seconds(input.time);
    return builder.build({
        '?xml': { '@version': '1.0', '@encoding': 'UTF-8' },
        testsuites: { ...root, testsuite: suites.map(({ element }) => element) }
    });
}
function ruleCase({ rule, ok, message }) {
    const testcase = { '@name': rule, '@classname': POLICY_SUITE };
    // a rule that holds says by how much in its output, which Jenkins shows on the test's page
    if (ok)
        testcase['system-out'] = message;
    else
        testcase.failure = { '@message': oneLine(message), '@type': 'policy', '#text': message };
    return testcase;
}
function evaluationSuite(evaluation) {
    const { name, properties, rows, rowsLeftOut, runs } = evaluation;
    if (rows === undefined)
        return suite(name, properties, [runsCase(name, runs)], undefined);
    const cases = rows.map(row => rowCase(name, row));
    if (rowsLeftOut > 0) {
        // skipped, not passed: those rows were not judged here (both schemas allow a text-only <skipped>)
        cases.push({
            '@name': `${count(rowsLeftOut)} more rows left out`,
            '@classname': name,
            skipped: `This report lists ${count(rows.length)} row results of this evaluation and leaves out ${count(rowsLeftOut)} more; Adaline has them all.`
        });
    }
    const latencies = rows.map(row => row.latencyMs).filter(isTime);
    const time = latencies.reduce((sum, ms) => sum + ms, 0) / 1000;
    return suite(name, properties, cases, latencies.length > 0 && isTime(time) ? time : undefined);
}
function rowCase(suiteName, row) {
    const testcase = { '@name': row.rowId, '@classname': suiteName };
    if (isTime(row.latencyMs))
        testcase['@time'] = seconds(row.latencyMs / 1000);
    const reason = row.reason ?? '';
    if (row.grade === 'fail') {
        const message = row.score == null ? 'no score' : `score ${decimal(row.score)}`;
        testcase.failure = { '@message': message, '@type': 'fail', '#text': reason || message };
    }
    else if (row.grade === 'unknown') {
        const message = oneLine(reason) || 'no grade and no reason given';
        testcase.error = { '@message': message, '@type': 'unknown', '#text': reason || message };
    }
    return testcase;
}
/** Rows not fetched: one testcase that fails when any run failed, errs when any is unknown. */
function runsCase(suiteName, runs) {
    const all = runs.pass + runs.fail + runs.unknown;
    const summary = `${count(runs.pass)} of ${count(all)} runs passed, ${count(runs.fail)} failed, ${count(runs.unknown)} unknown; the row results were not fetched.`;
    const testcase = { '@name': RUNS_TESTCASE, '@classname': suiteName };
    if (runs.fail > 0) {
        testcase.failure = { '@message': summary, '@type': 'fail', '#text': summary };
    }
    else if (runs.unknown > 0) {
        testcase.error = { '@message': summary, '@type': 'unknown', '#text': summary };
    }
    else {
        testcase['system-out'] = summary;
    }
    return testcase;
}
/** A suite with its counts taken from its testcases, so the two always agree. */
function suite(name, properties, cases, time) {
    const counts = {
        tests: cases.length,
        failures: cases.filter(c => c.failure !== undefined).length,
        errors: cases.filter(c => c.error !== undefined).length,
        skipped: cases.filter(c => c.skipped !== undefined).length
    };
    const element = {
        '@name': name,
        '@tests': count(counts.tests),
        '@failures': count(counts.failures),
        '@errors': count(counts.errors),
        '@skipped': count(counts.skipped)
    };
    if (time !== undefined)
        element['@time'] = seconds(time);
    // junit-4.xsd wants <properties> first and refuses it empty
    if (properties.length > 0) {
        element.properties = {
            property: properties.map(([n, value]) => ({ '@name': n, '@value': value }))
        };
    }
    if (cases.length > 0)
        element.testcase = cases;
    return { element, counts };
}
/**
 * XML 1.0 cannot hold C0 controls (but TAB, LF, CR), U+FFFE/U+FFFF or lone surrogates, not even
 * as `&#x1;`: they become U+FFFD.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/**
 * The one escape for this format (the library escapes `< > & " '` after it). Line ends become LF,
 * as a conforming parser reads them, so that every reader (some npm ones do not) sees the same text.
 */
function xmlText(_name, value) {
    return typeof value === 'string'
        ? value.replace(NOT_XML_CHAR, '\uFFFD').replace(/\r\n?/g, '\n')
        : value;
}
/** Parsers turn TAB, LF and CR in an attribute into spaces anyway; write what they will read. */
function xmlAttribute(name, value) {
    const text = xmlText(name, value);
    return typeof text === 'string' ? text.replace(/[\t\n\r]/g, ' ') : text;
}
const builder = new json2xml({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    format: true,
    suppressEmptyNode: true,
    // by default an attribute whose value is the string "true" is written bare: not XML
    suppressBooleanAttributes: false,
    tagValueProcessor: xmlText,
    attributeValueProcessor: xmlAttribute
});
/** A message attribute: one line, at most MESSAGE_MAX characters (whole code points). */
function oneLine(text) {
    const chars = Array.from(text.replace(/\s+/g, ' ').trim());
    return chars.length > MESSAGE_MAX
        ? `${chars.slice(0, MESSAGE_MAX - 1).join('')}…`
        : chars.join('');
}
function isTime(ms) {
    return typeof ms === 'number' && Number.isFinite(ms);
}
const COUNT = new Intl.NumberFormat('en-US', { useGrouping: false, maximumFractionDigits: 0 });
function count(value) {
    return COUNT.format(value);
}
// junit-10.xsd: `time` has at most 3 decimals, no exponent and no sign (toFixed gives 1e+21 past 10^21)
const SECONDS = new Intl.NumberFormat('en-US', {
    useGrouping: false,
    minimumFractionDigits: 3,
    maximumFractionDigits: 3
});
function seconds(value) {
    return SECONDS.format(Math.max(0, value));
}
// a score as a plain decimal: no exponent, no float noise past 15 significant digits
const DECIMAL = new Intl.NumberFormat('en-US', {
    useGrouping: false,
    maximumSignificantDigits: 15,
    signDisplay: 'negative'
});
function decimal(value) {
    return DECIMAL.format(value);
}

;// CONCATENATED MODULE: ./src/report/openmetrics.ts
/**
 * The metrics file for GitLab's metrics report (OpenMetrics text): one sample per judged
 * evaluation, labelled by prompt and evaluator, and one without labels for the totals. Pure.
 *
 * Metric families, all gauges (a report is a snapshot of one run, not a counter):
 * - `adaline_pass_ratio`: passed runs / all runs, 0..1, 4 decimals; left out while there are no runs
 *   (`_ratio`, not `_rate`, which Prometheus reads as "per second");
 * - `adaline_runs_passed`, `adaline_runs_failed`, `adaline_runs_unknown`: run counts;
 * - `adaline_cost_usd`: cost in US dollars, 6 decimals;
 * - `adaline_latency_avg_seconds`: average latency per run in seconds (Prometheus' base unit; the
 *   API's milliseconds / 1000), 3 decimals, so to the millisecond; left out while there are no runs;
 * - `adaline_tokens`: tokens used.
 *
 * Why it is written so:
 * - GitLab keys each sample by `name{labels}` with the quotes removed and compares values as
 *   strings, so each figure has one fixed format: no exponent, fixed decimals, no `-0`.
 * - The totals carry no labels: `adaline_pass_ratio 0.8750` reads as the whole in the merge
 *   request widget, and no prompt can be named so as to take its place.
 * - GitLab cuts each line at its first `#` before splitting it like a shell: a `#` in a label
 *   value would lose the whole report, so it becomes `＃` (U+FF03).
 * - Two evaluations with the same labels would be one series (GitLab keeps the last): the later
 *   ones get " (2)", " (3)"… after the evaluator.
 */
/** The metric families, in the order written. */
const FAMILIES = [
    {
        name: 'adaline_pass_ratio',
        help: 'Share of runs graded pass, 0 to 1.',
        value: ({ passRate }) => (passRate === null ? undefined : fixed(passRate, 4))
    },
    {
        name: 'adaline_runs_passed',
        help: 'Runs graded pass.',
        value: ({ passRuns }) => fixed(passRuns, 0)
    },
    {
        name: 'adaline_runs_failed',
        help: 'Runs graded fail.',
        value: ({ failRuns }) => fixed(failRuns, 0)
    },
    {
        name: 'adaline_runs_unknown',
        help: 'Runs graded unknown.',
        value: ({ unknownRuns }) => fixed(unknownRuns, 0)
    },
    {
        name: 'adaline_cost_usd',
        help: 'Cost in US dollars.',
        unit: 'usd',
        value: ({ costUsd }) => fixed(costUsd, 6)
    },
    {
        name: 'adaline_latency_avg_seconds',
        help: 'Average latency per run, in seconds.',
        unit: 'seconds',
        value: ({ avgLatencyMs }) => (avgLatencyMs === null ? undefined : fixed(avgLatencyMs / 1000, 3))
    },
    {
        name: 'adaline_tokens',
        help: 'Tokens used.',
        value: ({ tokens }) => fixed(tokens, 0)
    }
];
/** The OpenMetrics text, ending with `# EOF` and a newline. */
function buildOpenMetrics(input) {
    const series = [
        { labels: '', figures: input.totals },
        ...uniqueLabels(input.evaluations).map((labels, i) => ({
            labels,
            figures: input.evaluations[i]
        }))
    ];
    const lines = [];
    for (const family of FAMILIES) {
        lines.push(`# TYPE ${family.name} gauge`);
        if (family.unit !== undefined)
            lines.push(`# UNIT ${family.name} ${family.unit}`);
        lines.push(`# HELP ${family.name} ${family.help}`);
        for (const { labels, figures } of series) {
            const value = family.value(figures);
            if (value !== undefined)
                lines.push(`${family.name}${labels} ${value}`);
        }
    }
    lines.push('# EOF');
    return `${lines.join('\n')}\n`;
}
/** `{prompt="…",evaluator="…"}` for each evaluation, no two alike. */
function uniqueLabels(evaluations) {
    const taken = new Set();
    // the next suffix to try per set of names, so that a thousand twins cost a thousand steps
    const next = new Map();
    return evaluations.map(({ prompt, evaluator }) => {
        const start = `{prompt="${labelValue(named(prompt))}",evaluator="${labelValue(named(evaluator))}`;
        const first = `${start}"}`;
        let n = taken.has(first) ? (next.get(first) ?? 2) : 1;
        let chosen = n === 1 ? first : `${start} (${n})"}`;
        while (taken.has(chosen))
            chosen = `${start} (${(n += 1)})"}`;
        next.set(first, n + 1);
        taken.add(chosen);
        return chosen;
    });
}
// What some readers take as a line end or cannot show: control characters but LF (escaped below;
// CR and TAB are gone by then), U+2028/U+2029 and lone surrogates
const UNSAFE = /(?!\n)\p{Cc}|[\u2028\u2029]|\p{Surrogate}/gu;
/** Prometheus takes an empty label value for a missing label: it would read as the totals. */
function named(text) {
    return text === '' ? '(unnamed)' : text;
}
/** The one escape for this format: a label value between double quotes. */
function labelValue(text) {
    return text
        .replace(/\r\n?/g, '\n')
        .replace(/\t/g, ' ')
        .replace(UNSAFE, '\uFFFD')
        .replace(/#/g, '＃')
        .replace(/\\/g, '\\\\')
        .replace(/"/g, '\\"')
        .replace(/\n/g, '\\n');
}
const FORMATS = new Map();
/** A figure with a fixed number of decimals: never an exponent, never `-0`. */
function fixed(value, decimals) {
    if (!Number.isFinite(value))
        throw new RangeError(`not a finite number: ${value}`);
    let format = FORMATS.get(decimals);
    if (format === undefined) {
        format = new Intl.NumberFormat('en-US', {
            useGrouping: false,
            minimumFractionDigits: decimals,
            maximumFractionDigits: decimals,
            signDisplay: 'negative'
        });
        FORMATS.set(decimals, format);
    }
    return format.format(value);
}

;// CONCATENATED MODULE: ./src/report/ci-files.ts





/** The `<testsuites>` name. */
const JUNIT_NAME = 'adaline-evals';
/** The files the settings ask for, in the order of their inputs. */
function buildReportFiles(report, paths) {
    const files = [];
    if (paths.junitFile)
        files.push({ input: 'junit-file', path: paths.junitFile, text: buildJUnit(junitInput(report)) });
    if (paths.reportFile) {
        const text = jsonReportText(buildJsonReport(report));
        files.push({ input: 'report-file', path: paths.reportFile, text });
    }
    if (paths.metricsFile) {
        const text = buildOpenMetrics(metricsInput(report));
        files.push({ input: 'metrics-file', path: paths.metricsFile, text });
    }
    return files;
}
/** The JUnit builder's input: the policy suite's rules, and a suite per judged evaluation. */
function junitInput(report) {
    const { judged } = report.gathered;
    const names = suiteNames(report);
    return {
        name: JUNIT_NAME,
        time: report.timing ? (report.timing.finishedAt - report.timing.startedAt) / 1000 : undefined,
        rules: report.verdict.checks.map(({ rule, ok, message }) => ({ rule, ok, message })),
        evaluations: judged.map(({ promptId, evaluation }, i) => {
            const fetched = report.rowResults?.get(evaluation.runId);
            const { passRuns: pass, failRuns: fail, unknownRuns: unknown } = evaluation.metrics;
            return {
                name: names[i],
                properties: properties(report, promptId, evaluation),
                rows: fetched?.ok
                    ? fetched.results.map(result => ({
                        rowId: result.rowId,
                        grade: result.grade,
                        score: result.score,
                        reason: result.reason,
                        latencyMs: result.latency
                    }))
                    : undefined,
                rowsLeftOut: fetched?.ok ? fetched.leftOut : 0,
                runs: { pass, fail, unknown }
            };
        })
    };
}
/** The metrics builder's input: the totals and each judged evaluation's figures. */
function metricsInput(report) {
    const { metrics } = report;
    return {
        totals: {
            passRuns: metrics.passRuns,
            failRuns: metrics.failRuns,
            unknownRuns: metrics.unknownRuns,
            passRate: metrics.passRate,
            costUsd: metrics.totalCost,
            avgLatencyMs: metrics.avgLatency,
            tokens: metrics.totalTokens
        },
        evaluations: report.gathered.judged.map(({ promptId, evaluation }) => {
            const figures = (0,judge_metrics/* totals */.Sd)([evaluation]);
            return {
                prompt: promptId,
                evaluator: evaluatorName(report, evaluation),
                passRuns: figures.passRuns,
                failRuns: figures.failRuns,
                unknownRuns: figures.unknownRuns,
                passRate: figures.passRate,
                costUsd: figures.totalCost,
                avgLatencyMs: figures.avgLatency,
                tokens: figures.totalTokens
            };
        })
    };
}
/** The evaluator's title where the report has one, else its ID. */
function evaluatorName(report, evaluation) {
    return report.evaluatorTitles?.get(evaluation.evaluatorId) ?? evaluation.evaluatorId;
}
/**
 * Each judged evaluation's suite name, "prompt / evaluator", kept the same from build to build so
 * that Jenkins' and GitLab's test history follows it: the dataset is added only where two share
 * a prompt and evaluator, and " (2)", " (3)"… only where they share the dataset too.
 */
function suiteNames(report) {
    const { judged } = report.gathered;
    const base = judged.map(({ promptId, evaluation }) => `${promptId} / ${evaluatorName(report, evaluation)}`);
    const shared = countOf(base);
    const named = judged.map(({ evaluation }, i) => shared.get(base[i]) > 1 ? `${base[i]} / ${evaluation.datasetId ?? 'no dataset'}` : base[i]);
    const twins = countOf(named);
    const seen = new Map();
    return named.map(name => {
        if (twins.get(name) === 1)
            return name;
        const n = (seen.get(name) ?? 0) + 1;
        seen.set(name, n);
        return n === 1 ? name : `${name} (${n})`;
    });
}
function countOf(names) {
    const counts = new Map();
    for (const name of names)
        counts.set(name, (counts.get(name) ?? 0) + 1);
    return counts;
}
/** The suite's `<properties>`: what identifies the evaluation, and its figures as plain decimals. */
function properties(report, promptId, evaluation) {
    const figures = (0,judge_metrics/* totals */.Sd)([evaluation]);
    const title = report.evaluatorTitles?.get(evaluation.evaluatorId);
    const baseline = report.baselines.get(evaluation.runId);
    const optional = (name, value) => value === null || value === undefined
        ? []
        : [[name, typeof value === 'number' ? (0,format/* plainDecimal */.mr)(value) : value]];
    return [
        ['runId', evaluation.runId],
        ['promptId', promptId],
        ['evaluatorId', evaluation.evaluatorId],
        ...optional('evaluator', title),
        ...optional('datasetId', evaluation.datasetId),
        ['status', evaluation.status],
        ['passRuns', (0,format/* plainDecimal */.mr)(figures.passRuns)],
        ['failRuns', (0,format/* plainDecimal */.mr)(figures.failRuns)],
        ['unknownRuns', (0,format/* plainDecimal */.mr)(figures.unknownRuns)],
        ...optional('passRate', figures.passRate),
        ['failedRows', (0,format/* plainDecimal */.mr)(figures.failedRows)],
        ['costUsd', (0,format/* plainDecimal */.mr)(figures.totalCost)],
        ['totalLatencyMs', (0,format/* plainDecimal */.mr)(figures.totalLatency)],
        ...optional('avgLatencyMs', figures.avgLatency),
        ['tokens', (0,format/* plainDecimal */.mr)(figures.totalTokens)],
        ...optional('baselineRunId', baseline?.evaluation.runId)
    ];
}

;// CONCATENATED MODULE: ./src/report/markdown.ts
/**
 * The pieces of GitHub Markdown the summary and comment are built from: table rows, links, counts
 * as squares. API text reaches them escaped (escapeMarkdown); URLs are made safe here.
 */

const RULE = { left: '---', right: '---:', center: ':---:' };
/** A pipe table: its header, each column's alignment, and its rows of cells already escaped. */
function table(header, align, rows) {
    return [row(header), row(align.map(a => RULE[a])), ...rows.map(row)];
}
function row(cells) {
    return `| ${cells.join(' | ')} |`;
}
/**
 * A link whose text is already escaped; a URL that does not parse leaves the text alone. What
 * Markdown would read as structure in the URL (parentheses, brackets, a table's pipes, backslashes)
 * is percent-encoded and `&` written as a reference, so that no URL ends the link or the cell early.
 */
function markdown_link(text, url) {
    let href;
    try {
        // the WHATWG serialisation percent-encodes spaces, quotes and angle brackets already
        href = new URL(url).href;
    }
    catch {
        return text;
    }
    const safe = href
        .replace(/[()'[\]|\\]/g, char => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/&/g, '&amp;');
    return `[${text}](${safe})`;
}
/** An identifier from the API, escaped (IDs are at most 80 characters). */
function id(value) {
    return (0,format/* escapeMarkdown */.FV)(value, 80);
}
/** Squares in one line for the whole. */
const CHART_WIDTH = 20;
/**
 * How many of CHART_WIDTH squares each count gets: in proportion, by largest remainder, and at
 * least one for any count above zero, so a small share never vanishes.
 */
function squaresOf(counts, width = CHART_WIDTH) {
    const total = counts.reduce((sum, count) => sum + count, 0);
    if (total === 0)
        return counts.map(() => 0);
    const exact = counts.map(count => (count / total) * width);
    const squares = exact.map((share, i) => (counts[i] > 0 ? Math.max(1, Math.floor(share)) : 0));
    const sum = () => squares.reduce((a, b) => a + b, 0);
    while (sum() < width) {
        let best = -1;
        for (let i = 0; i < counts.length; i++)
            if (counts[i] > 0 && (best < 0 || exact[i] - squares[i] > exact[best] - squares[best]))
                best = i;
        squares[best] = squares[best] + 1;
    }
    while (sum() > width) {
        // the minimum of one square took room: give it back from the largest share
        let best = 0;
        for (let i = 1; i < squares.length; i++)
            if (squares[i] > squares[best])
                best = i;
        squares[best] = squares[best] - 1;
    }
    return squares;
}

;// CONCATENATED MODULE: ./src/report/evaluations.ts
/**
 * The summary's table of judged evaluations, one row each, named by the evaluator's title and
 * linked by the evaluation-url template; and the collapsed details that hold their IDs and the
 * figures the table leaves out. Pure.
 */





/** Evaluator titles are cut to this many characters in the table, so that it fits 1000 px. */
const TITLE_IN_TABLE = 48;
/** How one judged evaluation is named: its evaluator's title, else its evaluator ID. */
function evaluations_evaluatorName(report, item, maxLength = TITLE_IN_TABLE) {
    const { evaluatorId } = item.evaluation;
    return (0,format/* escapeMarkdown */.FV)(report.evaluatorTitles?.get(evaluatorId) ?? evaluatorId, maxLength);
}
/** The evaluation's link by the evaluation-url template, or undefined without one. */
function evaluationUrl(report, item) {
    if (!report.evaluationUrl)
        return undefined;
    const { runId, evaluatorId } = item.evaluation;
    return fillTemplate(report.evaluationUrl, { promptId: item.promptId, runId, evaluatorId });
}
/** The table: Evaluator, Status, Pass rate, Δ baseline (when any), Fail / unknown, Cost, Avg latency. */
function evaluationsTable(report, maxRows) {
    const { gathered, baselines, metrics } = report;
    const withDelta = baselines.size > 0;
    const prompts = promptLabels(report.promptIds);
    const header = ['Evaluator', 'Status', 'Pass rate'];
    const align = ['left', 'left', 'right'];
    if (withDelta) {
        header.push('Δ baseline');
        align.push('right');
    }
    header.push('Fail / unknown', 'Cost', 'Avg latency');
    align.push('right', 'right', 'right');
    const rows = gathered.judged.slice(0, maxRows).map(item => {
        const e = item.evaluation;
        const m = (0,judge_metrics/* totals */.Sd)([e]);
        let name = evaluations_evaluatorName(report, item);
        const url = evaluationUrl(report, item);
        if (url)
            name = markdown_link(name, url);
        const prompt = prompts.get(item.promptId);
        const cells = [
            prompt ? `${prompt} · ${name}` : name,
            e.status === 'queued' || e.status === 'running'
                ? `${e.status} ${(0,format/* formatPercent */.l9)(e.progress.percent / 100, 0)}`
                : e.status,
            rate(m)
        ];
        if (withDelta)
            cells.push(delta(m, baselines.get(e.runId)));
        cells.push(failUnknown(m), (0,format/* formatCost */.BD)(m.totalCost), latency(m));
        return cells;
    });
    const total = [`**Total**`, '', bold(rate(metrics))];
    if (withDelta)
        total.push('');
    total.push(bold(failUnknown(metrics)), bold((0,format/* formatCost */.BD)(metrics.totalCost)), latency(metrics));
    const lines = table(header, align, [...rows, total]);
    const hidden = gathered.judged.length - rows.length;
    if (hidden > 0)
        lines.push('', `… and ${(0,format/* plural */.LS)(hidden, 'more evaluation')} not shown; the totals and the \`evaluations\` output include them.`);
    return lines;
}
/** The collapsed section under the table: each evaluation's IDs and remaining figures, the listing. */
function evaluationDetails(report, maxRows) {
    const { gathered, baselines } = report;
    const lines = ['<details>', '<summary>IDs and more figures</summary>', ''];
    for (const item of gathered.judged.slice(0, maxRows)) {
        const e = item.evaluation;
        const m = e.metrics;
        const { completedRows, totalRows, failedRows } = e.progress;
        const parts = [
            `run ${id(e.runId)}`,
            `evaluator ${id(e.evaluatorId)}`,
            `dataset ${e.datasetId ? id(e.datasetId) : '—'}`,
            `prompt ${id(item.promptId)}`,
            `runs ${(0,format/* formatCount */.B4)(m.passRuns)} pass, ${(0,format/* formatCount */.B4)(m.failRuns)} fail, ${(0,format/* formatCount */.B4)(m.unknownRuns)} unknown`,
            (0,format/* plural */.LS)(m.totalTokenCount, 'token'),
            `${(0,format/* formatCount */.B4)(completedRows)} of ${(0,format/* plural */.LS)(totalRows, 'row')} done${failedRows ? ` (${(0,format/* formatCount */.B4)(failedRows)} failed)` : ''}`
        ];
        const baseline = baselines.get(e.runId);
        if (baseline) {
            const before = (0,judge_metrics/* totals */.Sd)([baseline.evaluation]);
            const now = (0,judge_metrics/* totals */.Sd)([e]);
            const latency = now.avgLatency !== null && before.avgLatency !== null
                ? `, avg latency ${(0,format/* formatRelativeDelta */.E1)(now.avgLatency, before.avgLatency)}`
                : '';
            parts.push(`baseline ${id(baseline.evaluation.runId)} (cost ${(0,format/* formatRelativeDelta */.E1)(now.totalCost, before.totalCost)}${latency})`);
        }
        lines.push(`- **${evaluations_evaluatorName(report, item)}**: ${parts.join(' · ')}`);
    }
    if (gathered.judged.length > maxRows)
        lines.push(`- … and ${(0,format/* plural */.LS)(gathered.judged.length - maxRows, 'more evaluation')}`);
    lines.push('', ...listingLines(report), '', '</details>');
    return lines;
}
/** What the listing found, and which judged evaluations had no baseline. */
function listingLines({ gathered, baselines, comparesWithBaseline, metrics, scope }) {
    const byStatus = schema/* EVALUATION_STATUSES */.co.filter(status => gathered.listedByStatus[status])
        .map(status => `${status} ${(0,format/* formatCount */.B4)(gathered.listedByStatus[status] ?? 0)}`)
        .join(' · ');
    const lines = [
        `${(0,format/* plural */.LS)(gathered.listedCount, 'evaluation')} matched the filters${byStatus ? `: ${byStatus}` : ''}; scope: ${scope}. ${(0,format/* formatCount */.B4)(metrics.totalTokens)} tokens, ${(0,format/* plural */.LS)(metrics.failedRows, 'failed row')} in all.`
    ];
    const without = gathered.judged.length - gathered.judged.filter(i => baselines.has(i.evaluation.runId)).length;
    if ((baselines.size > 0 || comparesWithBaseline) && without > 0)
        lines.push('', `${(0,format/* plural */.LS)(without, 'judged evaluation')} ${without === 1 ? 'has' : 'have'} no baseline (an earlier completed evaluation of the same prompt, evaluator and dataset).`);
    return lines;
}
/**
 * Short labels that tell the report's prompts apart, when there are several: the shortest prefix
 * of at least 8 characters unique among them, or, for IDs that differ only at the end, the start
 * and the shortest unique ending.
 */
function promptLabels(promptIds) {
    const labels = new Map();
    if (promptIds.length < 2)
        return labels;
    const unique = (cut) => new Set(promptIds.map(cut)).size === promptIds.length;
    const longest = Math.max(...promptIds.map(p => p.length));
    let prefix = 8;
    while (prefix < longest && !unique(p => p.slice(0, prefix)))
        prefix += 1;
    if (prefix <= 12) {
        for (const p of promptIds)
            labels.set(p, id(p.length > prefix ? `${p.slice(0, prefix)}…` : p));
        return labels;
    }
    let suffix = 4;
    while (suffix < longest && !unique(p => p.slice(-suffix)))
        suffix += 1;
    for (const p of promptIds)
        labels.set(p, id(p.length > suffix + 5 ? `${p.slice(0, 4)}…${p.slice(-suffix)}` : p));
    return labels;
}
function rate(m) {
    return m.passRate === null ? '—' : (0,format/* formatPercent */.l9)(m.passRate);
}
function delta(m, baseline) {
    if (!baseline || m.passRate === null)
        return '—';
    const before = (0,judge_metrics/* totals */.Sd)([baseline.evaluation]).passRate;
    return before === null ? '—' : (0,format/* formatPointsDelta */.BK)(m.passRate - before);
}
function failUnknown(m) {
    return `${(0,format/* formatCount */.B4)(m.failRuns)} / ${(0,format/* formatCount */.B4)(m.unknownRuns)}`;
}
function latency(m) {
    return m.avgLatency === null ? '—' : (0,format/* formatDuration */.a3)(m.avgLatency);
}
function bold(text) {
    return text === '—' || text === '' ? text : `**${text}**`;
}

// EXTERNAL MODULE: ./src/judge/checks.ts
var checks = __nccwpck_require__(550);
;// CONCATENATED MODULE: ./src/report/failing-rows.ts




/** Sections of at most `perEvaluation` rows each, then how many evaluations got none. */
function failingRowSections(report, perEvaluation) {
    const { gathered, failingRows } = report;
    const broke = (0,checks/* brokeARule */.v)(report.verdict.checks);
    const ordered = [
        ...gathered.judged.filter(item => broke.has(item.evaluation.runId)),
        ...gathered.judged.filter(item => !broke.has(item.evaluation.runId))
    ];
    const lines = [];
    let withoutSection = 0;
    for (const item of ordered) {
        const results = failingRows.get(item.evaluation.runId);
        const { failRuns, unknownRuns } = item.evaluation.metrics;
        if (!results) {
            // beyond the cap of evaluations whose rows are fetched, or their rows could not be fetched
            if (failRuns + unknownRuns > 0)
                withoutSection += 1;
            continue;
        }
        const shown = results.slice(0, perEvaluation);
        const shownOf = (grade) => (0,format/* formatCount */.B4)(shown.filter(result => result.grade === grade).length);
        lines.push('<details>', `<summary>${broke.has(item.evaluation.runId) ? '❌ ' : ''}${evaluations_evaluatorName(report, item, 80)} (${id(item.evaluation.runId)}): ${(0,format/* formatCount */.B4)(failRuns)} fail, ${(0,format/* formatCount */.B4)(unknownRuns)} unknown (showing ${shownOf('fail')} fail, ${shownOf('unknown')} unknown)</summary>`, '', ...table(['Grade', 'Score', 'Reason', 'Input', 'Cost', 'Latency'], ['left', 'right', 'left', 'left', 'right', 'right'], shown.map(result => [
            result.grade,
            result.score == null ? '—' : (0,format/* plainDecimal */.mr)(result.score),
            result.reason ? (0,format/* escapeMarkdown */.FV)(result.reason, 160) : '—',
            result.row ? (0,format/* escapeMarkdown */.FV)(rowValues(result.row.values), 120) : '—',
            result.cost == null ? '—' : (0,format/* formatCost */.BD)(result.cost),
            result.latency == null ? '—' : (0,format/* formatDuration */.a3)(result.latency)
        ])), '', '</details>', '');
    }
    if (withoutSection > 0)
        lines.push(`… and ${(0,format/* plural */.LS)(withoutSection, 'more evaluation')} with failing or unknown rows not shown.`, '');
    return lines;
}
/** A row's input values on one line: `ticket: My invoice is wrong; expected: billing`. */
function rowValues(values) {
    return Object.entries(values)
        .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join('; ');
}

;// CONCATENATED MODULE: ./src/report/summary.ts




/** GitHub refuses a step summary over 1 MiB; keep well below it. */
const SUMMARY_LIMIT_BYTES = 1_000_000;
const MAX_ROWS = 100;
const MAX_LISTED_IDS = 50;
/** Superseded evaluations listed one per line, with why their cancel did not land. */
const MAX_CANCEL_LINES = 20;
function buildSummary(report, options = {}) {
    const { limitBytes = SUMMARY_LIMIT_BYTES, links = {} } = options;
    for (let rows = MAX_ROWS;; rows = Math.floor(rows / 2)) {
        const text = render(report, links, rows);
        if (Buffer.byteLength(text) <= limitBytes || rows === 0)
            return text;
    }
}
/**
 * What a comment that held an earlier run's report says once a later run ended with an error, so
 * that no "passed" from an older commit stands under a newer one.
 */
function buildErrorReport(message, started, links = {}) {
    const lines = ['## ⚠️ Adaline evals: no verdict', '', ...linkLine(links)];
    lines.push(`**The run ended with an error**, so there is no verdict for this commit: ${escapeMarkdown(message, 600)}`, '');
    if (started.length > 0)
        lines.push(`It had started ${idList(started)}.`, '');
    lines.push('See the workflow run for the log; the next run that reaches a verdict replaces this.');
    return lines.join('\n');
}
/** The report, section by section; a section for a feature the run did not use is left out. */
function render(report, links, maxRows) {
    return [
        ...headline(report, links),
        ...cancelFailedLine(report),
        ...runsChart(report.metrics),
        ...rulesTable(report),
        ...judgedSection(report, maxRows),
        ...failingRowsSection(report, maxRows),
        ...startedSection(report),
        ...supersededSection(report)
    ].join('\n');
}
const HEADLINE = {
    passed: '✅ Adaline evals passed',
    failed: '❌ Adaline evals failed',
    skipped: '⏭️ Adaline evals: report only'
};
/** The verdict as a heading, the commit and the run, and the verdict in one sentence. */
function headline(report, links) {
    return [
        `## ${HEADLINE[report.verdict.gate]}`,
        '',
        ...linkLine(links),
        verdictSentence(report),
        ''
    ];
}
function linkLine({ commit, workflowRun }) {
    const parts = [];
    if (commit)
        parts.push(`Commit ${markdown_link(`\`${commit.sha.slice(0, 7)}\``, commit.url)}`);
    if (workflowRun)
        parts.push(markdown_link('workflow run', workflowRun));
    return parts.length > 0 ? [parts.join(' · '), ''] : [];
}
function verdictSentence({ verdict, metrics }) {
    if (verdict.gate === 'skipped')
        return '**Report only:** the policy sets no rules, so nothing was judged against limits.';
    if (verdict.gate === 'passed') {
        const rules = verdict.checks.length;
        return `**Passed:** ${rules === 1 ? 'the rule holds' : rules === 2 ? 'both rules hold' : `all ${(0,format/* formatCount */.B4)(rules)} rules hold`} over ${(0,format/* plural */.LS)(metrics.evaluations, 'judged evaluation')}.`;
    }
    const [first] = verdict.broken;
    const more = verdict.broken.length > 1
        ? ` (and ${(0,format/* plural */.LS)(verdict.broken.length - 1, 'more broken rule')})`
        : '';
    return `**Failed:** ${(0,format/* escapeMarkdown */.FV)(first?.message ?? '', 300)}${more}.`;
}
/** Near the top: the run fails for cancels that did not land, whatever the gate says. */
function cancelFailedLine({ cancel }) {
    const failed = cancel.failed.length;
    if (failed === 0)
        return [];
    return [
        `⚠️ **${(0,format/* plural */.LS)(failed, 'superseded evaluation')} could not be cancelled** and may still be running and billing, so the run fails whatever the gate (see Superseded evaluations, below).`,
        ''
    ];
}
/** Runs as one line of squares (🟩 pass, 🟥 fail, ⬜ unknown) with their counts, then the totals. */
function runsChart(metrics) {
    if (metrics.evaluations === 0)
        return ['No evaluations judged.', ''];
    const counts = [metrics.passRuns, metrics.failRuns, metrics.unknownRuns];
    const [pass, fail, unknown] = squaresOf(counts);
    const squares = '🟩'.repeat(pass) + '🟥'.repeat(fail) + '⬜'.repeat(unknown);
    const runs = `**${(0,format/* formatCount */.B4)(metrics.passRuns)}** pass · **${(0,format/* formatCount */.B4)(metrics.failRuns)}** fail · **${(0,format/* formatCount */.B4)(metrics.unknownRuns)}** unknown of ${(0,format/* plural */.LS)(metrics.runs, 'run')}`;
    const totals = [(0,format/* plural */.LS)(metrics.evaluations, 'evaluation')];
    if (metrics.passRate !== null)
        totals.push(`pass rate **${(0,format/* formatPercent */.l9)(metrics.passRate)}**`);
    totals.push(`cost **${(0,format/* formatCost */.BD)(metrics.totalCost)}**`);
    if (metrics.avgLatency !== null)
        totals.push(`**${(0,format/* formatDuration */.a3)(metrics.avgLatency)}** a run`);
    return [`${squares ? `${squares} ` : ''}${runs}\\`, totals.join(' · '), ''];
}
/** Every rule the policy sets, held or broken; none when the gate is skipped. */
function rulesTable({ verdict }) {
    if (verdict.checks.length === 0)
        return [];
    return [
        ...table(['Rule', 'Figure', 'Limit', ''], ['left', 'right', 'right', 'center'], verdict.checks.map(c => [
            c.rule,
            (0,format/* escapeMarkdown */.FV)(c.figure, 60),
            (0,format/* escapeMarkdown */.FV)(c.limit, 60),
            c.ok ? '✅' : '❌'
        ])),
        ''
    ];
}
function judgedSection(report, maxRows) {
    const { gathered, started, scope, baselines, comparesWithBaseline } = report;
    const which = started.length > 0 ? 'started by this run' : `scope: ${scope}`;
    const lines = [`### Judged evaluations (${which})`, ''];
    if (gathered.judged.length === 0)
        return [...lines, 'No evaluation matched the filters.', ''];
    lines.push(...evaluationsTable(report, maxRows), '');
    if (baselines.size === 0 && comparesWithBaseline)
        lines.push('No judged evaluation has a baseline (an earlier completed evaluation of the same prompt, evaluator and dataset), so max-pass-rate-drop applied to none.', '');
    lines.push(...evaluationDetails(report, maxRows), '');
    return lines;
}
function failingRowsSection(report, maxRows) {
    if (report.failingRows.size === 0)
        return [];
    return ['### Failing rows', '', ...failingRowSections(report, Math.ceil(maxRows / 4))];
}
function startedSection({ started, wait }) {
    if (started.length === 0 && !wait)
        return [];
    const lines = ['### Started and waited', ''];
    if (started.length > 0)
        lines.push(`Started ${(0,format/* plural */.LS)(started.length, 'evaluation')} for this commit: ${idList(started)}.`, '');
    if (wait)
        lines.push(wait.timedOut.length === 0
            ? `Waited ${(0,format/* formatDuration */.a3)(wait.waitedMs)} for the judged evaluations to finish.`
            : `Stopped waiting after ${(0,format/* formatDuration */.a3)(wait.waitedMs)}; still not finished: ${idList(wait.timedOut)}.`, '');
    return lines;
}
/** What was cancelled and why; left out when cancel-superseded is never. */
function supersededSection(report) {
    const { decision, cancel, dryRun, gathered } = report;
    if (!decision.act) {
        if ((report.cancelSuperseded ?? 'never') === 'never')
            return [];
        return [
            '### Superseded evaluations',
            '',
            `Nothing cancelled: ${(0,format/* escapeMarkdown */.FV)(decision.reason, 400)}.`,
            ''
        ];
    }
    const lines = [
        '### Superseded evaluations',
        '',
        `${capitalize((0,format/* escapeMarkdown */.FV)(decision.reason, 400))}.`,
        ''
    ];
    if (gathered.superseded.length === 0)
        return [...lines, 'No evaluation in flight was superseded.', ''];
    const verb = dryRun ? 'Would cancel (dry-run)' : 'Cancelled';
    lines.push(`${verb} ${(0,format/* formatCount */.B4)(cancel.cancelled.length)} of ${(0,format/* plural */.LS)(gathered.superseded.length, 'superseded evaluation')}${cancel.cancelled.length > 0 ? `: ${idList(cancel.cancelled)}` : '.'}`);
    if (cancel.failed.length > 0) {
        lines.push('', `**Could not cancel ${(0,format/* formatCount */.B4)(cancel.failed.length)}: they may still be running and billing, and the run fails for it.**`, '');
        for (const failed of cancel.failed.slice(0, MAX_CANCEL_LINES))
            lines.push(`- ${id(failed.runId)}: ${(0,format/* escapeMarkdown */.FV)(failed.message, 300)}`);
        if (cancel.failed.length > MAX_CANCEL_LINES)
            lines.push(`- … and ${(0,format/* formatCount */.B4)(cancel.failed.length - MAX_CANCEL_LINES)} more`);
    }
    if (cancel.finished.length > 0) {
        lines.push('', `Finished before their cancel arrived (${(0,format/* formatCount */.B4)(cancel.finished.length)}):`, '');
        for (const finished of cancel.finished.slice(0, MAX_CANCEL_LINES))
            lines.push(`- ${id(finished.runId)}: ${finished.status}`);
        if (cancel.finished.length > MAX_CANCEL_LINES)
            lines.push(`- … and ${(0,format/* formatCount */.B4)(cancel.finished.length - MAX_CANCEL_LINES)} more`);
    }
    lines.push('', 'Superseded evaluations are not judged.', '');
    return lines;
}
function capitalize(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
}
function idList(ids) {
    if (ids.length === 0)
        return 'none';
    const shown = ids.slice(0, MAX_LISTED_IDS).map(id).join(', ');
    return ids.length > MAX_LISTED_IDS
        ? `${shown} and ${(0,format/* formatCount */.B4)(ids.length - MAX_LISTED_IDS)} more`
        : shown;
}

// EXTERNAL MODULE: ./node_modules/cli-table3/index.js
var cli_table3 = __nccwpck_require__(5832);
var cli_table3_default = /*#__PURE__*/__nccwpck_require__.n(cli_table3);
// EXTERNAL MODULE: ./node_modules/picocolors/picocolors.js
var picocolors = __nccwpck_require__(7336);
;// CONCATENATED MODULE: ./node_modules/strip-ansi/node_modules/ansi-regex/index.js
// Valid string terminator sequences are ESC\ and 0x9c; OSC also accepts BEL.
const ST = String.raw`(?:\u001B\u005C|\u009C)`;

// OSC sequences only: ESC ] ... BEL/ST (or the C1 introducer 0x9d ... BEL/ST).
// Payloads stop at terminators, cancellations, and C1 controls. An unterminated string cannot swallow the next sequence or repeatedly scan its payload from later introducers. Terminals likewise abort a control string on an unexpected ESC.
const stringControls = String.raw`\u0018\u001A\u001B\u0080-\u009F`;
const osc = String.raw`(?:\u001B\]|\u009D)[^\u0007${stringControls}]*(?:\u0007|${ST})`;

// DCS, SOS, PM, APC, and screen window titles have opaque payloads terminated by ST. Nested ESC payloads, such as tmux passthrough, require a parser.
const controlString = String.raw`(?:\u001B[PX^_k]|[\u0090\u0098\u009E\u009F])[^${stringControls}]*${ST}`;

// Linux console palette controls have fixed lengths and no string terminator; iTerm2 terminates its palette assignments. Consume an immediately adjacent OSC terminator, but match these controls before OSC so a later BEL cannot consume visible text.
const linuxPalette = String.raw`\u001B\](?:P[\dA-Fa-f]{7}|R)(?:\u0007|${ST})?`;

// CSI: ESC [ or C1 CSI, parameter bytes (0x30–0x3f), intermediate bytes (0x20–0x2f), then a final byte (0x40–0x7e).
// `= < >` are final bytes in two-byte VT52 escapes (`ESC >`) but parameter bytes in a CSI (`ESC [ > 0 ; 276 ; 0 c`, the device attributes reply). Match CSI first to consume the whole sequence, where its introducer makes the two unambiguous.
const csi = String.raw`(?:\u001B\[|\u009B)[\u0030-\u003F]*[\u0020-\u002F]*[\u0040-\u007E]`;

// Related escapes: ESC, intermediate bytes (0x20–0x2f), then a final byte (0x30–0x7e), or a supported two-byte escape.
// The two-byte final class stays narrow so that ESC followed by an arbitrary character is not read as a sequence. CSI parameters belong only to the CSI form, preventing partial matches and avoiding a second scan with nested repetition.
// Escapes whose final byte is a digit include `ESC 7` and `ESC 8` (save and restore cursor), `ESC ( 0` (line drawing character set), and `ESC # 8` (screen alignment).
// A digit is never a CSI final byte. These escapes end immediately at their final byte, so `ESC 7 l` is read as the escape followed by text rather than a sequence with parameter 7 and final byte `l`.
const ansi_regex_escape = String.raw`\u001B(?:[\u0020-\u002F]+[\u0030-\u007E]|[\dA-PR-TZcf-oq-uy=><~|}])`;

const pattern = `${linuxPalette}|${osc}|${controlString}|${csi}|${ansi_regex_escape}`;

function ansiRegex({onlyFirst = false} = {}) {
	return new RegExp(pattern, onlyFirst ? undefined : 'g');
}

;// CONCATENATED MODULE: ./node_modules/strip-ansi/index.js


const regex = ansiRegex();

function stripAnsi(string) {
	if (typeof string !== 'string') {
		throw new TypeError(`Expected a \`string\`, got \`${typeof string}\``);
	}

	// Fast path: ANSI codes require ESC (7-bit) or CSI (8-bit) introducer
	if (!string.includes('\u001B') && !string.includes('\u009B')) {
		return string;
	}

	// Even though the regex is global, we don't need to reset the `.lastIndex`
	// because unlike `.exec()` and `.test()`, `.replace()` does it automatically
	// and doing it manually has a performance penalty.
	return string.replace(regex, '');
}

;// CONCATENATED MODULE: ./node_modules/get-east-asian-width/lookup-data.js
// Generated by scripts/build.js

const ambiguousMinimalCodePoint = 161;
const ambiguousMaximumCodePoint = 1114109;
const ambiguousRanges = [161, 161, 164, 164, 167, 168, 170, 170, 173, 174, 176, 180, 182, 186, 188, 191, 198, 198, 208, 208, 215, 216, 222, 225, 230, 230, 232, 234, 236, 237, 240, 240, 242, 243, 247, 250, 252, 252, 254, 254, 257, 257, 273, 273, 275, 275, 283, 283, 294, 295, 299, 299, 305, 307, 312, 312, 319, 322, 324, 324, 328, 331, 333, 333, 338, 339, 358, 359, 363, 363, 462, 462, 464, 464, 466, 466, 468, 468, 470, 470, 472, 472, 474, 474, 476, 476, 593, 593, 609, 609, 708, 708, 711, 711, 713, 715, 717, 717, 720, 720, 728, 731, 733, 733, 735, 735, 768, 879, 913, 929, 931, 937, 945, 961, 963, 969, 1025, 1025, 1040, 1103, 1105, 1105, 8208, 8208, 8211, 8214, 8216, 8217, 8220, 8221, 8224, 8226, 8228, 8231, 8240, 8240, 8242, 8243, 8245, 8245, 8251, 8251, 8254, 8254, 8308, 8308, 8319, 8319, 8321, 8324, 8364, 8364, 8451, 8451, 8453, 8453, 8457, 8457, 8467, 8467, 8470, 8470, 8481, 8482, 8486, 8486, 8491, 8491, 8531, 8532, 8539, 8542, 8544, 8555, 8560, 8569, 8585, 8585, 8592, 8601, 8632, 8633, 8658, 8658, 8660, 8660, 8679, 8679, 8704, 8704, 8706, 8707, 8711, 8712, 8715, 8715, 8719, 8719, 8721, 8721, 8725, 8725, 8730, 8730, 8733, 8736, 8739, 8739, 8741, 8741, 8743, 8748, 8750, 8750, 8756, 8759, 8764, 8765, 8776, 8776, 8780, 8780, 8786, 8786, 8800, 8801, 8804, 8807, 8810, 8811, 8814, 8815, 8834, 8835, 8838, 8839, 8853, 8853, 8857, 8857, 8869, 8869, 8895, 8895, 8978, 8978, 9312, 9449, 9451, 9547, 9552, 9587, 9600, 9615, 9618, 9621, 9632, 9633, 9635, 9641, 9650, 9651, 9654, 9655, 9660, 9661, 9664, 9665, 9670, 9672, 9675, 9675, 9678, 9681, 9698, 9701, 9711, 9711, 9733, 9734, 9737, 9737, 9742, 9743, 9756, 9756, 9758, 9758, 9792, 9792, 9794, 9794, 9824, 9825, 9827, 9829, 9831, 9834, 9836, 9837, 9839, 9839, 9886, 9887, 9919, 9919, 9926, 9933, 9935, 9939, 9941, 9953, 9955, 9955, 9960, 9961, 9963, 9969, 9972, 9972, 9974, 9977, 9979, 9980, 9982, 9983, 10045, 10045, 10102, 10111, 11094, 11097, 12872, 12879, 57344, 63743, 65024, 65039, 65533, 65533, 127232, 127242, 127248, 127277, 127280, 127337, 127344, 127373, 127375, 127376, 127387, 127404, 917760, 917999, 983040, 1048573, 1048576, 1114109];

const fullwidthMinimalCodePoint = 12288;
const fullwidthMaximumCodePoint = 65510;
const fullwidthRanges = [12288, 12288, 65281, 65376, 65504, 65510];

const lookup_data_halfwidthMinimalCodePoint = 8361;
const lookup_data_halfwidthMaximumCodePoint = 65518;
const lookup_data_halfwidthRanges = (/* unused pure expression or super */ null && ([8361, 8361, 65377, 65470, 65474, 65479, 65482, 65487, 65490, 65495, 65498, 65500, 65512, 65518]));

const lookup_data_narrowMinimalCodePoint = 32;
const lookup_data_narrowMaximumCodePoint = 10630;
const lookup_data_narrowRanges = (/* unused pure expression or super */ null && ([32, 126, 162, 163, 165, 166, 172, 172, 175, 175, 10214, 10221, 10629, 10630]));

const wideMinimalCodePoint = 4352;
const wideMaximumCodePoint = 262141;
const wideRanges = [4352, 4447, 8986, 8987, 9001, 9002, 9193, 9196, 9200, 9200, 9203, 9203, 9725, 9726, 9748, 9749, 9776, 9783, 9800, 9811, 9855, 9855, 9866, 9871, 9875, 9875, 9889, 9889, 9898, 9899, 9917, 9918, 9924, 9925, 9934, 9934, 9940, 9940, 9962, 9962, 9970, 9971, 9973, 9973, 9978, 9978, 9981, 9981, 9989, 9989, 9994, 9995, 10024, 10024, 10060, 10060, 10062, 10062, 10067, 10069, 10071, 10071, 10133, 10135, 10160, 10160, 10175, 10175, 11035, 11036, 11088, 11088, 11093, 11093, 11904, 11929, 11931, 12019, 12032, 12245, 12272, 12287, 12289, 12350, 12353, 12438, 12441, 12543, 12549, 12591, 12593, 12686, 12688, 12773, 12783, 12830, 12832, 12871, 12880, 42124, 42128, 42182, 43360, 43388, 44032, 55203, 63744, 64255, 65040, 65049, 65072, 65106, 65108, 65126, 65128, 65131, 94176, 94180, 94192, 94198, 94208, 101594, 101631, 101664, 101760, 101874, 101888, 102801, 102816, 102866, 110576, 110579, 110581, 110587, 110589, 110590, 110592, 110888, 110898, 110898, 110928, 110930, 110933, 110933, 110948, 110952, 110960, 111355, 119552, 119638, 119648, 119670, 126980, 126980, 127183, 127183, 127374, 127374, 127377, 127386, 127406, 127406, 127488, 127490, 127504, 127547, 127552, 127560, 127568, 127569, 127584, 127589, 127744, 127776, 127789, 127797, 127799, 127868, 127870, 127891, 127904, 127946, 127951, 127955, 127968, 127984, 127988, 127988, 127992, 128062, 128064, 128064, 128066, 128252, 128255, 128317, 128331, 128334, 128336, 128359, 128378, 128378, 128405, 128406, 128420, 128420, 128507, 128591, 128640, 128709, 128716, 128716, 128720, 128722, 128725, 128729, 128732, 128735, 128747, 128748, 128756, 128764, 128986, 128986, 128992, 129003, 129008, 129008, 129292, 129338, 129340, 129349, 129351, 129535, 129648, 129660, 129664, 129734, 129736, 129736, 129740, 129757, 129759, 129771, 129775, 129786, 131072, 196605, 196608, 262141];

;// CONCATENATED MODULE: ./node_modules/get-east-asian-width/utilities.js
/**
Binary search on a sorted flat array of [start, end] pairs.

@param {number[]} ranges - Flat array of inclusive [start, end] range pairs, e.g. [0, 5, 10, 20].
@param {number} codePoint - The value to search for.
@returns {boolean} Whether the value falls within any of the ranges.
*/
const utilities_isInRange = (ranges, codePoint) => {
	let low = 0;
	let high = Math.floor(ranges.length / 2) - 1;
	while (low <= high) {
		const mid = Math.floor((low + high) / 2);
		const i = mid * 2;
		if (codePoint < ranges[i]) {
			high = mid - 1;
		} else if (codePoint > ranges[i + 1]) {
			low = mid + 1;
		} else {
			return true;
		}
	}

	return false;
};

;// CONCATENATED MODULE: ./node_modules/get-east-asian-width/lookup.js



const commonCjkCodePoint = 0x4E_00;
const [wideFastPathStart, wideFastPathEnd] = /* #__PURE__ */ findWideFastPathRange(wideRanges);

// Use a hot-path range so common `isWide` calls can skip binary search.
// The range containing U+4E00 covers common CJK ideographs;
// fallback to the largest range for resilience to Unicode table changes.
function findWideFastPathRange(ranges) {
	let fastPathStart = ranges[0];
	let fastPathEnd = ranges[1];

	for (let index = 0; index < ranges.length; index += 2) {
		const start = ranges[index];
		const end = ranges[index + 1];

		if (
			commonCjkCodePoint >= start
			&& commonCjkCodePoint <= end
		) {
			return [start, end];
		}

		if ((end - start) > (fastPathEnd - fastPathStart)) {
			fastPathStart = start;
			fastPathEnd = end;
		}
	}

	return [fastPathStart, fastPathEnd];
}

const isAmbiguous = codePoint => {
	if (
		codePoint < ambiguousMinimalCodePoint
		|| codePoint > ambiguousMaximumCodePoint
	) {
		return false;
	}

	return utilities_isInRange(ambiguousRanges, codePoint);
};

const isFullwidth = codePoint => {
	if (
		codePoint < fullwidthMinimalCodePoint
		|| codePoint > fullwidthMaximumCodePoint
	) {
		return false;
	}

	return utilities_isInRange(fullwidthRanges, codePoint);
};

const isHalfwidth = codePoint => {
	if (
		codePoint < halfwidthMinimalCodePoint
		|| codePoint > halfwidthMaximumCodePoint
	) {
		return false;
	}

	return isInRange(halfwidthRanges, codePoint);
};

const isNarrow = codePoint => {
	if (
		codePoint < narrowMinimalCodePoint
		|| codePoint > narrowMaximumCodePoint
	) {
		return false;
	}

	return isInRange(narrowRanges, codePoint);
};

const isWide = codePoint => {
	if (
		codePoint >= wideFastPathStart
		&& codePoint <= wideFastPathEnd
	) {
		return true;
	}

	if (
		codePoint < wideMinimalCodePoint
		|| codePoint > wideMaximumCodePoint
	) {
		return false;
	}

	return utilities_isInRange(wideRanges, codePoint);
};

function lookup_getCategory(codePoint) {
	if (isAmbiguous(codePoint)) {
		return 'ambiguous';
	}

	if (isFullwidth(codePoint)) {
		return 'fullwidth';
	}

	if (isHalfwidth(codePoint)) {
		return 'halfwidth';
	}

	if (isNarrow(codePoint)) {
		return 'narrow';
	}

	if (isWide(codePoint)) {
		return 'wide';
	}

	return 'neutral';
}

;// CONCATENATED MODULE: ./node_modules/get-east-asian-width/index.js


function get_east_asian_width_validate(codePoint) {
	if (!Number.isSafeInteger(codePoint)) {
		throw new TypeError(`Expected a code point, got \`${typeof codePoint}\`.`);
	}
}

function eastAsianWidthType(codePoint) {
	get_east_asian_width_validate(codePoint);

	return getCategory(codePoint);
}

function eastAsianWidth(codePoint, {ambiguousAsWide = false} = {}) {
	get_east_asian_width_validate(codePoint);

	if (
		isFullwidth(codePoint)
		|| isWide(codePoint)
		|| (ambiguousAsWide && isAmbiguous(codePoint))
	) {
		return 2;
	}

	return 1;
}

// Private exports for https://github.com/sindresorhus/is-fullwidth-code-point


;// CONCATENATED MODULE: ./node_modules/string-width/index.js



/**
Logic:
- Segment graphemes to match how terminals render clusters.
- Width rules:
	1. Skip non-printing clusters (Default_Ignorable, Control, pure nonspacing/enclosing Mark, lone Surrogates). Tabs are ignored by design.
	2. RGI emoji clusters (\p{RGI_Emoji}) are double-width.
	3. Minimally-qualified/unqualified emoji clusters (ZWJ sequences with 2+ Extended_Pictographic, or keycap sequences) are double-width.
	4. Hangul jamo collapse each standard modern Hangul L+V or L+V+T syllable piece to width 2.
	   Unmatched repeated leading/vowel/trailing jamo stay additive because that matches how the terminals we target render them.
	5. Otherwise use East Asian Width of the cluster's first visible code point, and add widths for trailing spacing marks and Halfwidth/Fullwidth Forms within the same cluster (e.g., dakuten/handakuten/prolonged sound mark).
*/

const segmenter = new Intl.Segmenter();

// Matches a visible (printing) character. Used to find the base scalar of a cluster (skipping leading Prepend/Format/Marks) and to detect whole-cluster zero-width.
// Intentionally a single negated class without a quantifier: a repeated pattern like `^(?:…|…)+$` backtracks exponentially on overlapping properties, and even `^[…]+$` overflows V8's backtrack stack (RangeError) on clusters with millions of marks.
const visibleCharacterRegex = /[^\p{Default_Ignorable_Code_Point}\p{Control}\p{Format}\p{Nonspacing_Mark}\p{Enclosing_Mark}\p{Surrogate}]/v;
const spacingMarkRegex = /\p{Spacing_Mark}/v;

// RGI emoji sequences
const rgiEmojiRegex = /^\p{RGI_Emoji}$/v;

// Detect minimally-qualified/unqualified emoji sequences (missing VS16 but still render as double-width)
const unqualifiedKeycapRegex = /^[\d#*]\u20E3$/;
const extendedPictographicRegex = /\p{Extended_Pictographic}/gu;

function isDoubleWidthNonRgiEmojiSequence(segment) {
	// Real emoji clusters are < 30 chars; guard against pathological input
	if (segment.length > 50) {
		return false;
	}

	if (unqualifiedKeycapRegex.test(segment)) {
		return true;
	}

	// ZWJ sequences with 2+ Extended_Pictographic
	if (segment.includes('\u200D')) {
		const pictographics = segment.match(extendedPictographicRegex);
		return pictographics !== null && pictographics.length >= 2;
	}

	return false;
}

// Returns the cluster starting at its first visible character, or `undefined` if the whole cluster is zero-width.
function baseVisible(segment) {
	const index = segment.search(visibleCharacterRegex);
	return index === -1 ? undefined : segment.slice(index);
}

function isHangulLeadingJamo(codePoint) {
	return (codePoint >= 0x11_00 && codePoint <= 0x11_5F)
		|| (codePoint >= 0xA9_60 && codePoint <= 0xA9_7C);
}

function isHangulVowelJamo(codePoint) {
	return (codePoint >= 0x11_60 && codePoint <= 0x11_A7)
		|| (codePoint >= 0xD7_B0 && codePoint <= 0xD7_C6);
}

function isHangulTrailingJamo(codePoint) {
	return (codePoint >= 0x11_A8 && codePoint <= 0x11_FF)
		|| (codePoint >= 0xD7_CB && codePoint <= 0xD7_FB);
}

function isHangulJamo(codePoint) {
	return isHangulLeadingJamo(codePoint)
		|| isHangulVowelJamo(codePoint)
		|| isHangulTrailingJamo(codePoint);
}

function hangulClusterWidth(visibleSegment, eastAsianWidthOptions) {
	const codePoints = [];

	for (const character of visibleSegment) {
		if (!visibleCharacterRegex.test(character)) {
			continue;
		}

		codePoints.push(character.codePointAt(0));
	}

	if (codePoints.length === 0) {
		return undefined;
	}

	let width = 0;

	for (let index = 0; index < codePoints.length; index++) {
		const codePoint = codePoints[index];
		if (!isHangulJamo(codePoint)) {
			if (width === 0) {
				return undefined;
			}

			// Mixed cluster (e.g., L + precomposed syllable): use EAW for non-jamo remainder
			for (let remaining = index; remaining < codePoints.length; remaining++) {
				width += eastAsianWidth(codePoints[remaining], eastAsianWidthOptions);
			}

			return width;
		}

		// Modern Hangul L+V(+T) shapes as one syllable block. Unmatched jamo stay additive:
		// U+1100 U+1100 U+1161 => U+1100 + (U+1100 U+1161) => 2 + 2.
		if (
			isHangulLeadingJamo(codePoint)
			&& isHangulVowelJamo(codePoints[index + 1])
		) {
			width += 2;
			index += isHangulTrailingJamo(codePoints[index + 2]) ? 2 : 1;
			continue;
		}

		width += eastAsianWidth(codePoint, eastAsianWidthOptions);
	}

	return width;
}

function trailingWidth(visibleSegment, eastAsianWidthOptions) {
	let extra = 0;
	let first = true;

	for (const character of visibleSegment) {
		if (first) {
			first = false;
			continue;
		}

		if (
			spacingMarkRegex.test(character)
			|| (character >= '\uFF00' && character <= '\uFFEF')
		) {
			extra += eastAsianWidth(character.codePointAt(0), eastAsianWidthOptions);
		}
	}

	return extra;
}

function stringWidth(input, options = {}) {
	if (typeof input !== 'string' || input.length === 0) {
		return 0;
	}

	const {
		ambiguousIsNarrow = true,
		countAnsiEscapeCodes = false,
	} = options;

	let string = input;

	// Avoid calling stripAnsi when there are no ANSI escape sequences (ESC = 0x1B, CSI = 0x9B)
	if (!countAnsiEscapeCodes && (string.includes('\u001B') || string.includes('\u009B'))) {
		string = stripAnsi(string);
	}

	if (string.length === 0) {
		return 0;
	}

	// Fast path: printable ASCII (0x20–0x7E) needs no segmenter, regex, or EAW lookup — width equals length.
	if (/^[\u0020-\u007E]*$/.test(string)) {
		return string.length;
	}

	let width = 0;
	const eastAsianWidthOptions = {ambiguousAsWide: !ambiguousIsNarrow};

	for (const {segment} of segmenter.segment(string)) {
		// Zero-width / non-printing clusters
		const visibleSegment = baseVisible(segment);
		if (visibleSegment === undefined) {
			continue;
		}

		// Emoji width logic
		if (rgiEmojiRegex.test(segment) || isDoubleWidthNonRgiEmojiSequence(segment)) {
			width += 2;
			continue;
		}

		const hangulWidth = hangulClusterWidth(visibleSegment, eastAsianWidthOptions);
		if (hangulWidth !== undefined) {
			width += hangulWidth;
			continue;
		}

		// Everything else: EAW of the cluster’s first visible scalar
		const codePoint = visibleSegment.codePointAt(0);
		width += eastAsianWidth(codePoint, eastAsianWidthOptions);

		// Add width for trailing spacing marks and Halfwidth/Fullwidth Forms (e.g., ﾞ, ﾟ, ｰ)
		width += trailingWidth(visibleSegment, eastAsianWidthOptions);
	}

	return width;
}

;// CONCATENATED MODULE: ./node_modules/wrap-ansi/node_modules/ansi-styles/index.js
const ANSI_BACKGROUND_OFFSET = 10;

const wrapAnsi16 = (offset = 0) => code => `\u001B[${code + offset}m`;

const wrapAnsi256 = (offset = 0) => code => `\u001B[${38 + offset};5;${code}m`;

const wrapAnsi16m = (offset = 0) => (red, green, blue) => `\u001B[${38 + offset};2;${red};${green};${blue}m`;

const styles = {
	modifier: {
		reset: [0, 0],
		// 21 isn't widely supported and 22 does the same thing
		bold: [1, 22],
		dim: [2, 22],
		italic: [3, 23],
		underline: [4, 24],
		overline: [53, 55],
		inverse: [7, 27],
		hidden: [8, 28],
		strikethrough: [9, 29],
	},
	color: {
		black: [30, 39],
		red: [31, 39],
		green: [32, 39],
		yellow: [33, 39],
		blue: [34, 39],
		magenta: [35, 39],
		cyan: [36, 39],
		white: [37, 39],

		// Bright color
		blackBright: [90, 39],
		gray: [90, 39], // Alias of `blackBright`
		grey: [90, 39], // Alias of `blackBright`
		redBright: [91, 39],
		greenBright: [92, 39],
		yellowBright: [93, 39],
		blueBright: [94, 39],
		magentaBright: [95, 39],
		cyanBright: [96, 39],
		whiteBright: [97, 39],
	},
	bgColor: {
		bgBlack: [40, 49],
		bgRed: [41, 49],
		bgGreen: [42, 49],
		bgYellow: [43, 49],
		bgBlue: [44, 49],
		bgMagenta: [45, 49],
		bgCyan: [46, 49],
		bgWhite: [47, 49],

		// Bright color
		bgBlackBright: [100, 49],
		bgGray: [100, 49], // Alias of `bgBlackBright`
		bgGrey: [100, 49], // Alias of `bgBlackBright`
		bgRedBright: [101, 49],
		bgGreenBright: [102, 49],
		bgYellowBright: [103, 49],
		bgBlueBright: [104, 49],
		bgMagentaBright: [105, 49],
		bgCyanBright: [106, 49],
		bgWhiteBright: [107, 49],
	},
};

const modifierNames = Object.keys(styles.modifier);
const foregroundColorNames = Object.keys(styles.color);
const backgroundColorNames = Object.keys(styles.bgColor);
const colorNames = [...foregroundColorNames, ...backgroundColorNames];

function assembleStyles() {
	const codes = new Map();

	for (const [groupName, group] of Object.entries(styles)) {
		for (const [styleName, style] of Object.entries(group)) {
			styles[styleName] = {
				open: `\u001B[${style[0]}m`,
				close: `\u001B[${style[1]}m`,
			};

			group[styleName] = styles[styleName];

			codes.set(style[0], style[1]);
		}

		Object.defineProperty(styles, groupName, {
			value: group,
			enumerable: false,
		});
	}

	Object.defineProperty(styles, 'codes', {
		value: codes,
		enumerable: false,
	});

	styles.color.close = '\u001B[39m';
	styles.bgColor.close = '\u001B[49m';

	styles.color.ansi = wrapAnsi16();
	styles.color.ansi256 = wrapAnsi256();
	styles.color.ansi16m = wrapAnsi16m();
	styles.bgColor.ansi = wrapAnsi16(ANSI_BACKGROUND_OFFSET);
	styles.bgColor.ansi256 = wrapAnsi256(ANSI_BACKGROUND_OFFSET);
	styles.bgColor.ansi16m = wrapAnsi16m(ANSI_BACKGROUND_OFFSET);

	// From https://github.com/Qix-/color-convert/blob/3f0e0d4e92e235796ccb17f6e85c72094a651f49/conversions.js
	Object.defineProperties(styles, {
		rgbToAnsi256: {
			value(red, green, blue) {
				// We use the extended greyscale palette here, with the exception of
				// black and white. normal palette only has 4 greyscale shades.
				if (red === green && green === blue) {
					if (red < 8) {
						return 16;
					}

					if (red > 248) {
						return 231;
					}

					return Math.round(((red - 8) / 247) * 24) + 232;
				}

				return 16
					+ (36 * Math.round(red / 255 * 5))
					+ (6 * Math.round(green / 255 * 5))
					+ Math.round(blue / 255 * 5);
			},
			enumerable: false,
		},
		hexToRgb: {
			value(hex) {
				const matches = /[a-f\d]{6}|[a-f\d]{3}/i.exec(hex.toString(16));
				if (!matches) {
					return [0, 0, 0];
				}

				let [colorString] = matches;

				if (colorString.length === 3) {
					colorString = [...colorString].map(character => character + character).join('');
				}

				const integer = Number.parseInt(colorString, 16);

				return [
					/* eslint-disable no-bitwise */
					(integer >> 16) & 0xFF,
					(integer >> 8) & 0xFF,
					integer & 0xFF,
					/* eslint-enable no-bitwise */
				];
			},
			enumerable: false,
		},
		hexToAnsi256: {
			value: hex => styles.rgbToAnsi256(...styles.hexToRgb(hex)),
			enumerable: false,
		},
		ansi256ToAnsi: {
			value(code) {
				if (code < 8) {
					return 30 + code;
				}

				if (code < 16) {
					return 90 + (code - 8);
				}

				let red;
				let green;
				let blue;

				if (code >= 232) {
					red = (((code - 232) * 10) + 8) / 255;
					green = red;
					blue = red;
				} else {
					code -= 16;

					const remainder = code % 36;

					red = Math.floor(code / 36) / 5;
					green = Math.floor(remainder / 6) / 5;
					blue = (remainder % 6) / 5;
				}

				const value = Math.max(red, green, blue) * 2;

				if (value === 0) {
					return 30;
				}

				// eslint-disable-next-line no-bitwise
				let result = 30 + ((Math.round(blue) << 2) | (Math.round(green) << 1) | Math.round(red));

				if (value === 2) {
					result += 60;
				}

				return result;
			},
			enumerable: false,
		},
		rgbToAnsi: {
			value: (red, green, blue) => styles.ansi256ToAnsi(styles.rgbToAnsi256(red, green, blue)),
			enumerable: false,
		},
		hexToAnsi: {
			value: hex => styles.ansi256ToAnsi(styles.hexToAnsi256(hex)),
			enumerable: false,
		},
	});

	return styles;
}

const ansiStyles = assembleStyles();

/* harmony default export */ const ansi_styles = (ansiStyles);

;// CONCATENATED MODULE: ./node_modules/wrap-ansi/index.js



const ANSI_ESCAPE = '\u001B';
const ANSI_ESCAPE_BELL = '\u0007';
const C1_CSI = '\u009B';
const ANSI_CSI = '[';
const ANSI_OSC = ']';
const ANSI_SGR_TERMINATOR = 'm';
const ANSI_SGR_RESET = 0;
const ANSI_SGR_RESET_FOREGROUND = 39;
const ANSI_SGR_RESET_BACKGROUND = 49;
const ANSI_SGR_RESET_UNDERLINE_COLOR = 59;
const ANSI_SGR_FOREGROUND_EXTENDED = 38;
const ANSI_SGR_BACKGROUND_EXTENDED = 48;
const ANSI_SGR_UNDERLINE_COLOR_EXTENDED = 58;
const ANSI_SGR_COLOR_MODE_RGB = 2;
const ANSI_SGR_COLOR_MODE_256 = 5;
const ANSI_ESCAPE_LINK = `${ANSI_OSC}8;`;
// The first character of every sequence we recognize.
const ESCAPES = new Set([
	ANSI_ESCAPE,
	C1_CSI,
]);
const ESCAPE_CHARACTERS = [...ESCAPES].join('');

const CSI_INTRODUCER = `(?:${ANSI_ESCAPE}\\${ANSI_CSI}|${C1_CSI})`;
const CSI_PARAMETERS = '[0-?]*[ -/]*[@-~]';
const SGR_PARAMETERS = `(?<sgr>[0-9;:]*)${ANSI_SGR_TERMINATOR}`;
const OSC_STRING_TERMINATOR = `(?:${ANSI_ESCAPE_BELL}|${ANSI_ESCAPE}\\\\)`;
const OSC_STRING_PAYLOAD = String.raw`[^\u0000-\u001F\u007F-\u009F]*`;
// A hyperlink is `OSC 8 ; parameters ; URI ST`, where `parameters` is a possibly empty list of `key=value` pairs joined by `:`.
const LINK_PARAMETERS = String.raw`8;(?<parameters>[^;\u0000-\u001F\u007F-\u009F]*);(?<uri>${OSC_STRING_PAYLOAD})${OSC_STRING_TERMINATOR}`;
const OSC_STRING = `${OSC_STRING_PAYLOAD}${OSC_STRING_TERMINATOR}`;

// Supported boundary: semicolon-delimited SGR styling, colon-delimited RGB/indexed colors, and OSC 8 hyperlinks are tracked, while ordinary CSI sequences and other complete 7-bit OSC commands are preserved as opaque zero-width units. This is intentionally not a terminal emulator, so other colon-delimited SGR semantics, C0 bytes inside sequences, DCS/SOS/PM/APC control strings, cancellations, generic ESC sequences, and 8-bit control-string forms are unsupported. Newlines always delimit input lines before ANSI parsing.
const ANSI_ESCAPE_REGEX = new RegExp(
	`${CSI_INTRODUCER}(?:${SGR_PARAMETERS}|${CSI_PARAMETERS})`
	+ `|${ANSI_ESCAPE}\\${ANSI_OSC}(?:${LINK_PARAMETERS}|${OSC_STRING})`,
	'y',
);

const ANSI_SGR_MODIFIER_CLOSE_CODES = new Set(ansi_styles.codes.values());
ANSI_SGR_MODIFIER_CLOSE_CODES.delete(ANSI_SGR_RESET);

const wrap_ansi_segmenter = new Intl.Segmenter();
// Complete ANSI sequences have already been removed before measuring these strings. Avoid string-width's ANSI scan so malformed sequences are not rescanned.
const getStringWidth = string => stringWidth(string, {countAnsiEscapeCodes: true});
const TAB_SIZE = 8;

// Finds the next character that could introduce a sequence, so plain text is skipped in one native step.
const ESCAPE_INTRODUCER_REGEX = new RegExp(`[${ESCAPE_CHARACTERS}]`, 'g');
// The final pass only cares about sequences and row boundaries, so it skips everything else in one native step.
const ROW_BOUNDARY_REGEX = new RegExp(`[\\n${ESCAPE_CHARACTERS}]`, 'g');
// Every printable ASCII character is its own grapheme cluster of width one, which lets the segmenter be skipped.
const ASCII_PRINTABLE_REGEX = /^[ -~]*$/;

const wrapAnsiCode = code => `${ANSI_ESCAPE}${ANSI_CSI}${code}${ANSI_SGR_TERMINATOR}`;
const wrapAnsiHyperlink = (url, parameters = '') => `${ANSI_ESCAPE}${ANSI_ESCAPE_LINK}${parameters};${url}${ANSI_ESCAPE_BELL}`;

// Match a complete escape sequence starting at `index`, or return `undefined` when none starts there.
const matchAnsiEscape = (string, index) => {
	if (!ESCAPES.has(string[index])) {
		return;
	}

	ANSI_ESCAPE_REGEX.lastIndex = index;
	return ANSI_ESCAPE_REGEX.exec(string) ?? undefined;
};

// Walk a string as alternating plain text runs and complete escape sequences.
// A character that looks like an introducer but does not start a valid sequence stays plain text.
const forEachSegment = (string, onPlainText, onEscape = () => {}) => {
	let plainStart = 0;
	let index = 0;

	while (index < string.length) {
		ESCAPE_INTRODUCER_REGEX.lastIndex = index;
		const introducer = ESCAPE_INTRODUCER_REGEX.exec(string);

		if (!introducer) {
			break;
		}

		const escape = matchAnsiEscape(string, introducer.index);

		if (!escape) {
			index = introducer.index + 1;
			continue;
		}

		if (introducer.index > plainStart) {
			onPlainText(string.slice(plainStart, introducer.index));
		}

		onEscape(escape[0]);
		index = introducer.index + escape[0].length;
		plainStart = index;
	}

	if (plainStart < string.length) {
		onPlainText(string.slice(plainStart));
	}
};

// The visible width of a string, ignoring escape sequences.
const getWidth = string => {
	let plainText = '';

	forEachSegment(string, part => {
		plainText += part;
	});

	return getStringWidth(plainText);
};

// Split a string into escape sequences, which are zero width and must never be split, and grapheme clusters.
// The supported boundary is between grapheme clusters and ANSI sequences; ANSI inserted inside a cluster is treated as separate segments.
const getTokens = string => {
	const tokens = [];

	forEachSegment(string, plainText => {
		if (ASCII_PRINTABLE_REGEX.test(plainText)) {
			for (const character of plainText) {
				tokens.push({value: character, width: 1});
			}

			return;
		}

		for (const {segment} of wrap_ansi_segmenter.segment(plainText)) {
			tokens.push({value: segment, width: getStringWidth(segment)});
		}
	}, escape => {
		tokens.push({value: escape, width: 0});
	});

	return tokens;
};

// Split on spaces, ignoring spaces that appear inside a recognized sequence.
const splitWords = string => {
	let currentWord = {value: '', plainText: ''};
	const words = [currentWord];

	forEachSegment(string, plainText => {
		const parts = plainText.split(' ');
		currentWord.value += parts[0];
		currentWord.plainText += parts[0];

		for (let index = 1; index < parts.length; index++) {
			currentWord = {value: parts[index], plainText: parts[index]};
			words.push(currentWord);
		}
	}, escape => {
		currentWord.value += escape;
	});

	// Measured once per word rather than per run, so a grapheme cluster split by an escape still counts once.
	for (const word of words) {
		word.width = getStringWidth(word.plainText);
	}

	return words;
};

const getColonColorToken = parameter => {
	const parts = parameter.split(':');
	const code = Number.parseInt(parts[0], 10);
	const mode = Number.parseInt(parts[1], 10);

	if (![ANSI_SGR_FOREGROUND_EXTENDED, ANSI_SGR_BACKGROUND_EXTENDED, ANSI_SGR_UNDERLINE_COLOR_EXTENDED].includes(code)) {
		return;
	}

	if (mode === ANSI_SGR_COLOR_MODE_256 && parts.length === 3 && /^\d+$/.test(parts[2])) {
		return {code, open: parameter, hasArguments: true};
	}

	if (mode !== ANSI_SGR_COLOR_MODE_RGB) {
		return;
	}

	const components = parts.length === 6 ? parts.slice(3) : parts.slice(2);
	const colorSpace = parts.length === 6 ? parts[2] : undefined;
	if (components.length === 3 && components.every(component => /^\d+$/.test(component)) && (colorSpace === undefined || /^\d*$/.test(colorSpace))) {
		return {code, open: parameter, hasArguments: true};
	}
};

const getSgrTokens = sgrParameters => {
	const parameters = sgrParameters.split(';');
	const sgrTokens = [];

	for (let index = 0; index < parameters.length; index++) {
		const parameter = parameters[index];
		if (parameter.includes(':')) {
			const colonColorToken = getColonColorToken(parameter);
			if (colonColorToken) {
				sgrTokens.push(colonColorToken);
			}

			continue;
		}

		const code = parameter === '' ? ANSI_SGR_RESET : Number.parseInt(parameter, 10);

		if (!Number.isFinite(code)) {
			continue;
		}

		if (code === ANSI_SGR_FOREGROUND_EXTENDED || code === ANSI_SGR_BACKGROUND_EXTENDED || code === ANSI_SGR_UNDERLINE_COLOR_EXTENDED) {
			if (index + 1 >= parameters.length) {
				break;
			}

			const mode = Number.parseInt(parameters[index + 1], 10);
			const colorIndex = Number.parseInt(parameters[index + 2], 10);
			if (mode === ANSI_SGR_COLOR_MODE_256 && Number.isFinite(colorIndex)) {
				sgrTokens.push({code, open: [code, mode, colorIndex].join(';'), hasArguments: true});
				index += 2;
				continue;
			}

			const red = Number.parseInt(parameters[index + 2], 10);
			const green = Number.parseInt(parameters[index + 3], 10);
			const blue = Number.parseInt(parameters[index + 4], 10);
			if (mode === ANSI_SGR_COLOR_MODE_RGB && Number.isFinite(red) && Number.isFinite(green) && Number.isFinite(blue)) {
				sgrTokens.push({code, open: [code, mode, red, green, blue].join(';'), hasArguments: true});
				index += 4;
				continue;
			}

			break;
		}

		sgrTokens.push({code, open: String(code), hasArguments: false});
	}

	return sgrTokens;
};

const removeActiveStyle = (activeStyles, family) => {
	const activeStyleIndex = activeStyles.findIndex(activeStyle => activeStyle.family === family);

	if (activeStyleIndex !== -1) {
		activeStyles.splice(activeStyleIndex, 1);
	}
};

const upsertActiveStyle = (activeStyles, nextActiveStyle) => {
	removeActiveStyle(activeStyles, nextActiveStyle.family);
	activeStyles.push(nextActiveStyle);
};

const removeModifierStylesByClose = (activeStyles, closeCode) => {
	for (let index = activeStyles.length - 1; index >= 0; index--) {
		const activeStyle = activeStyles[index];
		if (activeStyle.family.startsWith('modifier-') && activeStyle.close === closeCode) {
			activeStyles.splice(index, 1);
		}
	}
};

const getColorStyle = sgrToken => {
	const {code, open, hasArguments} = sgrToken;
	if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97) || (code === ANSI_SGR_FOREGROUND_EXTENDED && hasArguments)) {
		return {
			family: 'foreground',
			open,
			close: ANSI_SGR_RESET_FOREGROUND,
		};
	}

	if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107) || (code === ANSI_SGR_BACKGROUND_EXTENDED && hasArguments)) {
		return {
			family: 'background',
			open,
			close: ANSI_SGR_RESET_BACKGROUND,
		};
	}

	if (code === ANSI_SGR_UNDERLINE_COLOR_EXTENDED && hasArguments) {
		return {
			family: 'underlineColor',
			open,
			close: ANSI_SGR_RESET_UNDERLINE_COLOR,
		};
	}
};

const applySgrResetCode = (code, activeStyles) => {
	if (code === ANSI_SGR_RESET) {
		activeStyles.length = 0;
		return true;
	}

	if (code === ANSI_SGR_RESET_FOREGROUND) {
		removeActiveStyle(activeStyles, 'foreground');
		return true;
	}

	if (code === ANSI_SGR_RESET_BACKGROUND) {
		removeActiveStyle(activeStyles, 'background');
		return true;
	}

	if (code === ANSI_SGR_RESET_UNDERLINE_COLOR) {
		removeActiveStyle(activeStyles, 'underlineColor');
		return true;
	}

	if (ANSI_SGR_MODIFIER_CLOSE_CODES.has(code)) {
		removeModifierStylesByClose(activeStyles, code);
		return true;
	}

	return false;
};

const applySgrToken = (sgrToken, activeStyles) => {
	const {code} = sgrToken;

	if (applySgrResetCode(code, activeStyles)) {
		return;
	}

	const colorStyle = getColorStyle(sgrToken);
	if (colorStyle) {
		upsertActiveStyle(activeStyles, colorStyle);
		return;
	}

	const close = ansi_styles.codes.get(code);
	if (close !== undefined && close !== ANSI_SGR_RESET) {
		upsertActiveStyle(activeStyles, {
			family: `modifier-${code}`,
			open: sgrToken.open,
			close,
		});
	}
};

const applySgrParameters = (sgrParameters, activeStyles) => {
	for (const sgrToken of getSgrTokens(sgrParameters)) {
		applySgrToken(sgrToken, activeStyles);
	}
};

const applySgrResets = (sgrParameters, activeStyles) => {
	for (const {code} of getSgrTokens(sgrParameters)) {
		applySgrResetCode(code, activeStyles);
	}
};

const applyLeadingSgrResets = (string, startIndex, activeStyles) => {
	let index = startIndex;

	while (index < string.length) {
		const match = matchAnsiEscape(string, index);
		if (!match) {
			break;
		}

		if (match.groups.sgr !== undefined) {
			applySgrResets(match.groups.sgr, activeStyles);
		}

		index += match[0].length;
	}
};

const getClosingSgrSequence = activeStyles => [...activeStyles].reverse().map(activeStyle => wrapAnsiCode(activeStyle.close)).join('');
const getOpeningSgrSequence = activeStyles => activeStyles.map(activeStyle => wrapAnsiCode(activeStyle.open)).join('');

// Wrap a long word across multiple rows
// ANSI escape codes do not count towards length
// Takes the visible width of the last row and returns the width of the row the word ends on, so callers never have to measure the rows themselves.
const wrapWord = (rows, word, columns, rowWidth) => {
	const tokens = getTokens(word);

	let visible = rowWidth;

	for (let index = 0; index < tokens.length; index++) {
		const token = tokens[index];

		// Escape sequences and combining marks are zero width, so they always stay on the current row.
		if (token.width > 0 && visible > 0 && visible + token.width > columns) {
			rows.push('');
			visible = 0;
		}

		rows[rows.length - 1] += token.value;
		visible += token.width;

		if (visible === columns && index < tokens.length - 1) {
			rows.push('');
			visible = 0;
		}
	}

	// It's possible that the last row we copy over is only
	// ANSI escape characters, handle this edge-case
	if (!visible && rows.at(-1).length > 0 && rows.length > 1) {
		rows[rows.length - 2] += rows.pop();
	}

	// The tokens are measured one by one, so a grapheme cluster that an escape sequence splits is counted once per part rather than once as a whole. Only the finished row tells the true width, and it is at most one row long to measure.
	return getWidth(rows.at(-1));
};

// Trims spaces from a string ignoring invisible sequences
const stringVisibleTrimSpacesRight = string => {
	if (!string.includes(' ')) {
		return string;
	}

	const segments = [];
	forEachSegment(string, plainText => {
		segments.push({value: plainText, isEscape: false});
	}, escape => {
		segments.push({value: escape, isEscape: true});
	});

	// Drop the spaces that trail the last visible character, but keep the invisible sequences among them.
	for (let index = segments.length - 1; index >= 0; index--) {
		const segment = segments[index];

		if (segment.isEscape) {
			continue;
		}

		// Scanned rather than matched with a regex, as a trailing-space pattern backtracks quadratically.
		let end = segment.value.length;
		while (end > 0 && segment.value[end - 1] === ' ') {
			end--;
		}

		segment.value = segment.value.slice(0, end);

		if (getStringWidth(segment.value) > 0) {
			break;
		}
	}

	return segments.map(segment => segment.value).join('');
};

const expandTabs = line => {
	if (!line.includes('\t')) {
		return line;
	}

	let visible = 0;
	let expandedLine = '';
	let plainTextSinceTab = '';

	const expandPlainText = plainText => {
		const segments = plainText.split('\t');

		for (const [index, segment] of segments.entries()) {
			expandedLine += segment;
			plainTextSinceTab += segment;

			if (index < segments.length - 1) {
				visible += getStringWidth(plainTextSinceTab);
				plainTextSinceTab = '';
				const spaces = TAB_SIZE - (visible % TAB_SIZE);
				expandedLine += ' '.repeat(spaces);
				visible += spaces;
			}
		}
	};

	forEachSegment(line, expandPlainText, escape => {
		expandedLine += escape;
	});

	return expandedLine;
};

// Close the active styles and hyperlink before every row break and reopen them after, so each row stands on its own.
// Only sequences and newlines matter here, so the string is scanned directly rather than split into grapheme clusters.
const restoreStylesAcrossRows = preString => {
	let returnValue = '';
	let activeHyperlink;
	const activeStyles = [];
	let index = 0;
	let copiedIndex = 0;

	while (index < preString.length) {
		ROW_BOUNDARY_REGEX.lastIndex = index;
		const boundary = ROW_BOUNDARY_REGEX.exec(preString);

		if (!boundary) {
			break;
		}

		index = boundary.index;

		if (boundary[0] !== '\n') {
			const escape = matchAnsiEscape(preString, index);

			if (!escape) {
				index++;
				continue;
			}

			const {groups} = escape;
			if (groups.sgr !== undefined) {
				applySgrParameters(groups.sgr, activeStyles);
			} else if (groups.uri !== undefined) {
				activeHyperlink = groups.uri.length === 0 ? undefined : {parameters: groups.parameters, uri: groups.uri};
			}

			index += escape[0].length;
			continue;
		}

		// Everything up to the row break is copied verbatim, sequences included.
		returnValue += preString.slice(copiedIndex, index);

		// An empty row never reopened anything, so there is nothing to close.
		if (index > copiedIndex) {
			if (activeHyperlink) {
				returnValue += wrapAnsiHyperlink('');
			}

			returnValue += getClosingSgrSequence(activeStyles);
		}

		returnValue += '\n';
		index++;
		copiedIndex = index;

		// An empty row has nothing to style, so the styles stay closed until the next row with content. A trailing row break leaves no row at all.
		if (index < preString.length && preString[index] !== '\n') {
			const openingStyles = [...activeStyles];
			applyLeadingSgrResets(preString, index, openingStyles);
			returnValue += getOpeningSgrSequence(openingStyles);

			if (activeHyperlink) {
				returnValue += wrapAnsiHyperlink(activeHyperlink.uri, activeHyperlink.parameters);
			}
		}
	}

	return returnValue + preString.slice(copiedIndex);
};

// The wrap-ansi module can be invoked in either 'hard' or 'soft' wrap mode.
//
// 'hard' will never allow a string to take up more than columns characters.
//
// 'soft' allows long words to expand past the column length.
const exec = (string, columns, options = {}) => {
	if (options.trim !== false && string.trim() === '') {
		return '';
	}

	const words = splitWords(string);
	let rows = [''];
	// Tracked as rows are built. Remeasuring the row for every word makes wrapping quadratic in the line length.
	let rowLength = 0;
	// Words are only ever appended, so a row that already starts with content can never become trimmable again. Retrimming it for every word makes wrapping quadratic in the line length.
	let trimmedRowIndex = -1;

	let isFirstWord = true;

	for (const word of words) {
		const rowIndex = rows.length - 1;

		if (options.trim !== false && trimmedRowIndex !== rowIndex) {
			const row = rows[rowIndex];
			const trimmedRow = row.trimStart();

			if (trimmedRow.length !== row.length) {
				rows[rowIndex] = trimmedRow;
				rowLength = getWidth(trimmedRow);
			}

			if (trimmedRow.length > 0) {
				trimmedRowIndex = rowIndex;
			}
		}

		if (isFirstWord) {
			isFirstWord = false;
		} else {
			if (rowLength >= columns && (options.wordWrap === false || options.trim === false)) {
				// If we start with a new word but the current row length equals the length of the columns, add a new row
				rows.push('');
				rowLength = 0;
			}

			if (rowLength > 0 || options.trim === false) {
				rows[rows.length - 1] += ' ';
				rowLength++;
			}
		}

		// In 'hard' wrap mode, the length of a line is never allowed to extend past 'columns'
		if (options.hard && options.wordWrap !== false && word.width > columns) {
			const remainingColumns = columns - rowLength;
			const breaksStartingThisLine = 1 + Math.floor((word.width - remainingColumns - 1) / columns);
			const breaksStartingNextLine = Math.floor((word.width - 1) / columns);
			if (breaksStartingNextLine < breaksStartingThisLine) {
				rows.push('');
				rowLength = 0;
			}

			rowLength = wrapWord(rows, word.value, columns, rowLength);
			continue;
		}

		if (rowLength + word.width > columns && rowLength > 0 && word.width > 0) {
			if (options.wordWrap === false && rowLength < columns) {
				rowLength = wrapWord(rows, word.value, columns, rowLength);
				continue;
			}

			rows.push('');
			rowLength = 0;
		}

		if (rowLength + word.width > columns && options.wordWrap === false) {
			rowLength = wrapWord(rows, word.value, columns, rowLength);
			continue;
		}

		rows[rows.length - 1] += word.value;
		rowLength += word.width;
	}

	if (options.trim !== false) {
		rows = rows.map(row => stringVisibleTrimSpacesRight(row));
	}

	return restoreStylesAcrossRows(rows.join('\n'));
};

// Normalize the text, but not the sequences: a combining mark that follows a sequence composes with its last character and destroys it.
const normalizeText = string => {
	let normalizedString = '';

	forEachSegment(string, plainText => {
		normalizedString += plainText.normalize();
	}, escape => {
		normalizedString += escape;
	});

	return normalizedString;
};

// For each newline, invoke the method separately.
function wrapAnsi(string, columns, options) {
	return normalizeText(String(string))
		.replaceAll('\r\n', '\n')
		.split('\n')
		.map(line => exec(expandTabs(line), columns, options))
		.join('\n');
}

;// CONCATENATED MODULE: ./src/report/terminal-layout.ts
/**
 * The terminal report's means of layout: API text made inert for a terminal, paragraphs wrapped
 * to the width, and tables sized to it (cli-table3 draws them; wrap-ansi and string-width measure
 * what a terminal shows, emoji and CJK included). Pure.
 */





/** picocolors' functions, each a no-op when `enabled` is false. */
function colors(enabled) {
    return (0,picocolors.createColors)(enabled);
}
// C0 and C1 controls (ESC, CSI, \r, \b, BEL…), DEL, line and paragraph separators, and the bidi
// controls, which could reorder what a terminal shows
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;
// Zero-width characters, joiners and skin-tone modifiers: terminals disagree on how wide the
// sequences they build are (👩‍👩‍👧 is 2 columns or 6), and so do string-width and cli-table3's own
// measure; without them every measure agrees (👩👩👧 is 6) and no cell is cut or overflows
const JOINERS = /[\u200b-\u200d\u2060\ufeff]|\p{Emoji_Modifier}/gu;
/**
 * API text as a terminal may show it: escape sequences removed whole (a hostile answer cannot
 * move the cursor, clear the screen or colour the terminal), every other control character a
 * space, on one line, and cut to `maxLength` characters so one field cannot flood the report.
 */
function terminalText(text, maxLength = 120) {
    const value = stripAnsi(text)
        .replace(CONTROLS, ' ')
        .replace(JOINERS, '')
        .replace(/ {2,}/g, ' ')
        .trim();
    const chars = Array.from(value);
    return chars.length > maxLength ? `${chars.slice(0, maxLength - 1).join('')}…` : value;
}
/** The columns a terminal gives `text` (its widest line), as string-width counts them. */
function widthOf(text) {
    return Math.max(0, ...text.split('\n').map(line => stringWidth(line)));
}
/** A paragraph wrapped at word boundaries to `width` columns; a longer word is broken. */
function wrap(text, width, indent = '') {
    const inner = Math.max(1, width - widthOf(indent));
    return wrapAnsi(text, inner, { hard: true, trim: true })
        .split('\n')
        .map(line => indent + line);
}
/** How narrow a column of prose gets before the other columns' headers wrap. */
const PROSE_WIDTH = 28;
/** Two columns apart: one space of padding and one of separator. */
const GAP = 2;
/**
 * A table of `rows` under `columns` that fits `width` columns: each column as wide as its widest
 * cell; when that is too wide, headers wrap first, then cells at word boundaries (the widest
 * column first), and a word is broken only when a column must get narrower than it. Header bold,
 * a rule under it.
 */
function terminal_layout_table(columns, rows, width, c) {
    const widths = fitColumns(floors(columns, rows), width - GAP * (columns.length - 1));
    const cell = (text, i) => wrapAnsi(text, widths[i], { hard: true, trim: true });
    const drawn = new (cli_table3_default())({
        head: columns.map((column, i) => cell(c.bold(column.header), i)),
        colWidths: widths.map(w => w + GAP - 1),
        colAligns: columns.map(column => column.align ?? 'left'),
        wordWrap: false,
        style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': GAP - 1 },
        chars: {
            top: '',
            'top-mid': '',
            'top-left': '',
            'top-right': '',
            bottom: '',
            'bottom-mid': '',
            'bottom-left': '',
            'bottom-right': '',
            left: '',
            'left-mid': '',
            mid: '─',
            'mid-mid': '─',
            right: '',
            'right-mid': '',
            middle: ' '
        }
    });
    const tableWidth = widths.reduce((sum, w) => sum + w, 0) + GAP * (columns.length - 1);
    for (const row of rows) {
        if (Array.isArray(row))
            drawn.push(row.map(cell));
        else
            drawn.push([
                {
                    colSpan: columns.length,
                    content: wrapAnsi(row.across, tableWidth, { hard: true, trim: true })
                }
            ]);
    }
    const lines = drawn
        .toString()
        .split('\n')
        .map(line => line.replace(/\s+$/, ''));
    // the rule under the header, as wide as the table's widest line
    const ruleWidth = Math.min(width, Math.max(...lines.map(widthOf)));
    return lines.map(line => (/^[─ ]+$/.test(stripAnsi(line)) ? '─'.repeat(ruleWidth) : line));
}
/** Whether the table fits `width` without breaking a word (or a column below its `min`). */
function fitsWithoutBreaking(columns, rows, width) {
    const narrowest = floors(columns, rows).at(-1) ?? [];
    return narrowest.reduce((sum, w) => sum + w, 0) + GAP * (columns.length - 1) <= width;
}
/** The widths to narrow to in turn: natural; headers wrapped; cells wrapped at words. */
function floors(columns, rows) {
    const cellRows = rows.filter((row) => Array.isArray(row));
    const widest = (i) => Math.max(0, ...cellRows.map(row => widthOf(row[i] ?? '')));
    const natural = columns.map((column, i) => Math.max(widthOf(column.header), widest(i)));
    return [
        natural,
        // a column of prose (one with a min) wraps to a readable width before any header wraps
        natural.map((w, i) => {
            const min = columns[i].min;
            return min === undefined ? w : Math.min(w, Math.max(min, PROSE_WIDTH));
        }),
        columns.map((column, i) => Math.max(longestWord(column.header), widest(i))),
        columns.map((column, i) => column.min ??
            Math.max(longestWord(column.header), ...cellRows.map(row => longestWord(row[i] ?? ''))))
    ];
}
/**
 * Column widths that add up to at most `available`: the first of `floors` (the natural widths),
 * narrowed one column at a time (the one with the most room above the next floor) until they fit,
 * floor after floor; below the last floor only when it does not fit. No column gets narrower than 1.
 */
function fitColumns(floors, available) {
    const [natural = [], ...lower] = floors;
    const widths = natural.map(w => Math.max(1, w));
    const total = () => widths.reduce((sum, w) => sum + w, 0);
    for (const floor of [...lower, widths.map(() => 1)]) {
        const limit = floor.map((f, i) => Math.max(1, Math.min(f, widths[i])));
        while (total() > available) {
            let pick = -1;
            for (let i = 0; i < widths.length; i += 1) {
                const room = widths[i] - limit[i];
                if (room > 0 && (pick < 0 || room > widths[pick] - limit[pick]))
                    pick = i;
            }
            if (pick < 0)
                break;
            widths[pick] = widths[pick] - 1;
        }
    }
    return widths;
}
/**
 * Parts joined with " · ", as many on a line as `width` allows, so that a line never starts with
 * the separator; a part wider than a line is wrapped on its own.
 */
function joinParts(parts, width) {
    const lines = [];
    let line = '';
    for (const part of parts) {
        const joined = line ? `${line} · ${part}` : part;
        if (widthOf(joined) <= width) {
            line = joined;
            continue;
        }
        if (line)
            lines.push(line);
        const wrapped = wrap(part, width);
        line = wrapped.pop() ?? '';
        lines.push(...wrapped);
    }
    if (line)
        lines.push(line);
    return lines;
}
function longestWord(text) {
    return Math.max(0, ...stripAnsi(text)
        .split(/\s+/)
        .map(word => stringWidth(word)));
}

;// CONCATENATED MODULE: ./src/report/terminal.ts
/**
 * The command's default report (`--format text`), built from the RunReport for a terminal: the
 * verdict, the rules, a run bar, the judged evaluations and their failing rows, in tables sized to
 * the terminal, coloured only when asked. The same facts and number formats as the Markdown
 * summary; no Markdown or HTML. Pure.
 */




/** Evaluations in the table; the totals count them all. */
const MAX_EVALUATIONS = 50;
/** Evaluations whose failing rows are shown, and rows shown for each. */
const MAX_FAILING_SECTIONS = 5;
const MAX_ROWS_EACH = 5;
const terminal_MAX_LISTED_IDS = 20;
function buildTerminalReport(report, options) {
    const width = Math.max(20, Math.floor(options.width));
    const c = colors(options.color);
    const blocks = [
        [...terminal_headline(report, options.commit, width, c), ...terminal_verdictSentence(report, width)],
        [...runBar(report.metrics, width, c), ...joinParts(totalsParts(report.metrics), width)],
        ...cancelFailedWarning(report, width, c),
        ...rules(report, width, c),
        evaluations(report, width, c),
        ...failingRows(report, width, c),
        ...happenings(report, width, c),
        wrap(c.dim(listedLine(report)), width)
    ];
    return `${blocks
        .filter(block => block.length > 0)
        .map(block => block.join('\n'))
        .join('\n\n')}\n`;
}
/** "1 evaluation", "2 evaluations". */
function counted(n, noun) {
    return `${(0,format/* formatCount */.B4)(n)} ${noun}${n === 1 ? '' : 's'}`;
}
const GATE = {
    passed: { mark: '✓', says: 'gate passed' },
    failed: { mark: '✗', says: 'gate failed' },
    skipped: { mark: '–', says: 'report only' }
};
/** `✗ Adaline evals: gate failed · commit 1a2b3c4`, the verdict in its colour. */
function terminal_headline({ verdict }, commit, width, c) {
    const gate = GATE[verdict.gate];
    const paint = verdict.gate === 'passed' ? c.green : verdict.gate === 'failed' ? c.red : c.yellow;
    const parts = [`${c.bold(paint(gate.mark))} Adaline evals: ${c.bold(paint(gate.says))}`];
    if (commit)
        parts.push(`commit ${shortCommit(commit)}`);
    return joinParts(parts, width);
}
/** A full SHA as git shortens it (7 characters); anything else as given, made inert. */
function shortCommit(commit) {
    return /^[0-9a-f]{8,64}$/i.test(commit) ? commit.slice(0, 7) : terminalText(commit, 40);
}
function terminal_verdictSentence({ verdict, metrics }, width) {
    if (verdict.gate === 'skipped')
        return wrap('The policy sets no rules, so nothing was judged against limits.', width);
    if (verdict.gate === 'passed')
        return wrap(`Every rule holds over ${counted(metrics.evaluations, 'evaluation')}.`, width);
    const [first] = verdict.broken;
    const more = verdict.broken.length - 1;
    const tail = more > 0 ? ` (and ${counted(more, 'more broken rule')})` : '';
    return wrap(`${terminalText(first?.message ?? '', 300)}${tail}.`, width);
}
/** `Runs  ████████▒▒░  57 pass · 4 fail · 3 unknown`, the bar as wide as the line allows. */
function runBar(metrics, width, c) {
    if (metrics.runs === 0)
        return [];
    const slices = [
        { count: metrics.passRuns, name: 'pass', mark: '█', paint: c.green },
        { count: metrics.failRuns, name: 'fail', mark: '▒', paint: c.red },
        { count: metrics.unknownRuns, name: 'unknown', mark: '░', paint: c.gray }
    ];
    const legend = slices.map(s => `${(0,format/* formatCount */.B4)(s.count)} ${s.name}`).join(' · ');
    const room = Math.min(40, width - 'Runs  '.length - 2 - legend.length);
    if (room < 10)
        return wrap(`Runs: ${legend}`, width);
    // each slice rounded, then the largest adjusted so the bar is exactly `room` wide
    const lengths = slices.map(s => Math.round((s.count / metrics.runs) * room));
    const largest = lengths.indexOf(Math.max(...lengths));
    lengths[largest] += room - lengths.reduce((sum, n) => sum + n, 0);
    const bar = slices.map((s, i) => s.paint(s.mark.repeat(Math.max(0, lengths[i])))).join('');
    const shown = slices
        .map(s => (s.count > 0 ? s.paint(`${(0,format/* formatCount */.B4)(s.count)} ${s.name}`) : `0 ${s.name}`))
        .join(' · ');
    return [`Runs  ${bar}  ${shown}`];
}
function totalsParts(metrics) {
    if (metrics.evaluations === 0)
        return ['No evaluations judged.'];
    const parts = [
        `${counted(metrics.evaluations, 'evaluation')} judged`,
        counted(metrics.runs, 'run')
    ];
    if (metrics.passRate !== null)
        parts.push(`pass rate ${(0,format/* formatPercent */.l9)(metrics.passRate)}`);
    parts.push(`cost ${(0,format/* formatCost */.BD)(metrics.totalCost)}`);
    if (metrics.avgLatency !== null)
        parts.push(`${(0,format/* formatDuration */.a3)(metrics.avgLatency)} per run`);
    parts.push(counted(metrics.totalTokens, 'token'));
    if (metrics.failedRows > 0)
        parts.push(counted(metrics.failedRows, 'failed row'));
    return parts;
}
/** Near the top: cancels that did not land fail the run whatever the gate says. */
function cancelFailedWarning({ cancel }, width, c) {
    if (cancel.failed.length === 0)
        return [];
    const n = cancel.failed.length;
    return [
        wrap(c.bold(c.red(`⚠ ${counted(n, 'superseded evaluation')} could not be cancelled and may still be running and billing, so the run fails whatever the gate (see below).`)), width)
    ];
}
function section(title, c) {
    return c.bold(title);
}
/** Every rule the policy sets, held or broken: on a pass too, so a reader sees what was checked. */
function rules({ verdict }, width, c) {
    if (verdict.checks.length === 0)
        return [];
    const rows = verdict.checks.map(check => [
        check.rule,
        terminalText(check.figure, 40),
        terminalText(check.limit, 40),
        check.ok ? c.green('✓ pass') : c.red(c.bold('✗ FAIL'))
    ]);
    return [
        [
            section('Rules', c),
            ...terminal_layout_table([
                { header: 'Rule' },
                { header: 'Figure', align: 'right' },
                { header: 'Limit', align: 'right' },
                { header: 'Result' }
            ], rows, width, c)
        ]
    ];
}
function title(report, evaluatorId) {
    return terminalText(report.evaluatorTitles?.get(evaluatorId) ?? evaluatorId, 200);
}
function evaluations(report, width, c) {
    const { gathered, baselines } = report;
    const whose = report.started.length > 0 ? 'started by this run' : `scope: ${report.scope}`;
    const heading = section(`Evaluations (${whose})`, c);
    if (gathered.judged.length === 0)
        return [heading, 'No evaluation matched the filters.'];
    const withBaseline = baselines.size > 0;
    const shown = gathered.judged.slice(0, MAX_EVALUATIONS);
    const fields = EVALUATION_FIELDS.filter(field => withBaseline || field.column.header !== 'Δ baseline');
    const rowsOf = (kept) => groupedRows(report, shown, kept, c);
    // a narrow terminal: the least needed columns go, rather than words broken in every cell
    const dropped = [];
    for (const optional of ['Avg latency', 'Cost']) {
        if (fitsWithoutBreaking(fields.map(f => f.column), rowsOf(fields), width))
            break;
        fields.splice(fields.findIndex(field => field.column.header === optional), 1);
        dropped.push(optional.toLowerCase());
    }
    const lines = [
        heading,
        ...terminal_layout_table(fields.map(f => f.column), rowsOf(fields), width, c)
    ];
    if (dropped.length > 0)
        lines.push(...wrap(c.dim(`Left out for the width: ${dropped.reverse().join(' and ')} (--format json has them).`), width));
    const hidden = gathered.judged.length - shown.length;
    if (hidden > 0)
        lines.push(...wrap(`… and ${counted(hidden, 'more evaluation')} not shown; the totals include them (--format json lists all).`, width));
    const without = gathered.judged.length -
        [...gathered.judged].filter(i => baselines.has(i.evaluation.runId)).length;
    if (withBaseline && without > 0)
        lines.push(...wrap(c.dim(`Δ baseline: ${counted(without, 'judged evaluation')} without an earlier completed one to compare with.`), width));
    if (!withBaseline && report.comparesWithBaseline)
        lines.push(...wrap(c.dim('No judged evaluation has an earlier completed one of the same prompt, evaluator and dataset, so max-pass-rate-drop applied to none.'), width));
    return lines;
}
/** The evaluations table's columns, each with its cell: what a reviewer compares at a glance. */
const EVALUATION_FIELDS = [
    {
        column: { header: 'Evaluator', min: 20 },
        cell: (item, report) => title(report, item.evaluation.evaluatorId)
    },
    { column: { header: 'Status' }, cell: (item, _, c) => paintStatus(item.evaluation.status, c) },
    {
        column: { header: 'Pass rate', align: 'right' },
        cell: item => rateText((0,judge_metrics/* totals */.Sd)([item.evaluation]).passRate)
    },
    {
        column: { header: 'Δ baseline', align: 'right' },
        cell: (item, report) => {
            const now = (0,judge_metrics/* totals */.Sd)([item.evaluation]).passRate;
            const baseline = report.baselines.get(item.evaluation.runId);
            const before = baseline ? (0,judge_metrics/* totals */.Sd)([baseline.evaluation]).passRate : null;
            return now === null || before === null ? '—' : (0,format/* formatPointsDelta */.BK)(now - before);
        }
    },
    {
        column: { header: 'Fail / unknown', align: 'right' },
        cell: (item, _, c) => {
            const { failRuns, unknownRuns } = item.evaluation.metrics;
            return `${failRuns > 0 ? c.red((0,format/* formatCount */.B4)(failRuns)) : '0'} / ${(0,format/* formatCount */.B4)(unknownRuns)}`;
        }
    },
    {
        column: { header: 'Cost', align: 'right' },
        cell: item => (0,format/* formatCost */.BD)((0,judge_metrics/* totals */.Sd)([item.evaluation]).totalCost)
    },
    {
        column: { header: 'Avg latency', align: 'right' },
        cell: item => {
            const { avgLatency } = (0,judge_metrics/* totals */.Sd)([item.evaluation]);
            return avgLatency === null ? '—' : (0,format/* formatDuration */.a3)(avgLatency);
        }
    }
];
function rateText(rate) {
    return rate === null ? '—' : (0,format/* formatPercent */.l9)(rate);
}
/** The rows of the evaluations table; with several prompts, grouped under each prompt's ID. */
function groupedRows(report, shown, fields, c) {
    const row = (item) => fields.map(field => field.cell(item, report, c));
    if (report.promptIds.length <= 1)
        return shown.map(row);
    const prompts = new Set([...report.promptIds, ...shown.map(item => item.promptId)]);
    return [...prompts].flatMap(promptId => {
        const ofPrompt = shown.filter(item => item.promptId === promptId);
        if (ofPrompt.length === 0)
            return [];
        return [{ across: c.dim(`prompt ${terminalText(promptId, 80)}`) }, ...ofPrompt.map(row)];
    });
}
function paintStatus(status, c) {
    if (status === 'completed')
        return status;
    if (status === 'failed')
        return c.red(status);
    return c.yellow(status);
}
/**
 * The failing and unknown rows, first of the evaluations that broke a rule (a broken check's
 * runIds), then of the others, newest first.
 */
function failingRows(report, width, c) {
    const { gathered, failingRows: rowsOf, verdict } = report;
    if (rowsOf.size === 0)
        return [];
    const blamed = new Set(verdict.checks.filter(check => !check.ok).flatMap(check => check.runIds ?? []));
    const withRows = gathered.judged.filter(item => rowsOf.has(item.evaluation.runId));
    const ordered = [
        ...withRows.filter(item => blamed.has(item.evaluation.runId)),
        ...withRows.filter(item => !blamed.has(item.evaluation.runId))
    ];
    const blocks = ordered
        .slice(0, MAX_FAILING_SECTIONS)
        .map(item => failingSection(report, item, rowsOf.get(item.evaluation.runId), width, c));
    const notShown = gathered.judged.filter(item => item.evaluation.metrics.failRuns + item.evaluation.metrics.unknownRuns > 0).length - blocks.length;
    if (notShown > 0)
        blocks.push(wrap(c.dim(`… and ${counted(notShown, 'more evaluation')} with failing or unknown rows not shown (--format json has them).`), width));
    return blocks;
}
function failingSection(report, item, results, width, c) {
    const e = item.evaluation;
    const shown = results.slice(0, MAX_ROWS_EACH);
    const heading = wrap(section(`Failing rows: ${title(report, e.evaluatorId)}`, c), width);
    const counts = `${terminalText(e.runId, 80)} · ${(0,format/* formatCount */.B4)(e.metrics.failRuns)} fail, ${(0,format/* formatCount */.B4)(e.metrics.unknownRuns)} unknown; showing ${(0,format/* formatCount */.B4)(shown.length)}`;
    const rows = shown.map(result => [
        result.grade === 'fail' ? c.red('fail') : c.yellow(result.grade),
        result.reason ? terminalText(result.reason, 160) : '—',
        result.row ? terminalText(terminal_rowValues(result.row.values), 120) : '—'
    ]);
    return [
        ...heading,
        ...wrap(c.dim(counts), width),
        ...terminal_layout_table([{ header: 'Grade' }, { header: 'Reason', min: 12 }, { header: 'Input', min: 12 }], rows, width, c)
    ];
}
/** A row's input values on one line: `ticket: My invoice is wrong; expected: billing`. */
function terminal_rowValues(values) {
    return Object.entries(values)
        .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join('; ');
}
/** What the run did besides judging, each only when it happened. */
function happenings(report, width, c) {
    const { started, wait, cancel, dryRun, gathered } = report;
    const lines = [];
    if (started.length > 0)
        lines.push(...wrap(`Started ${counted(started.length, 'evaluation')} for this commit: ${ids(started)}.`, width));
    if (wait)
        lines.push(...wrap(wait.timedOut.length === 0
            ? `Waited ${(0,format/* formatDuration */.a3)(wait.waitedMs)} for the judged evaluations to finish.`
            : `Stopped waiting after ${(0,format/* formatDuration */.a3)(wait.waitedMs)}; still not finished: ${ids(wait.timedOut)}.`, width));
    if (cancel.cancelled.length > 0)
        lines.push(...wrap(`${dryRun ? 'Would cancel (dry run)' : 'Cancelled'} ${(0,format/* formatCount */.B4)(cancel.cancelled.length)} of ${counted(gathered.superseded.length, 'superseded evaluation')}: ${ids(cancel.cancelled)}.`, width));
    if (cancel.finished.length > 0)
        lines.push(...wrap(`Finished before their cancel arrived: ${cancel.finished
            .slice(0, terminal_MAX_LISTED_IDS)
            .map(f => `${terminalText(f.runId, 80)} (${f.status})`)
            .join(', ')}${cancel.finished.length > terminal_MAX_LISTED_IDS ? ` and ${(0,format/* formatCount */.B4)(cancel.finished.length - terminal_MAX_LISTED_IDS)} more` : ''}.`, width));
    if (cancel.failed.length > 0) {
        lines.push(...wrap(c.red(`Could not cancel ${counted(cancel.failed.length, 'superseded evaluation')}; they may still be running and billing:`), width));
        for (const failed of cancel.failed.slice(0, terminal_MAX_LISTED_IDS))
            lines.push(...wrap(`• ${terminalText(failed.runId, 80)}: ${terminalText(failed.message, 300)}`, width, '  ').map((line, i) => (i === 0 ? line.slice(2) : line)));
        if (cancel.failed.length > terminal_MAX_LISTED_IDS)
            lines.push(`• … and ${(0,format/* formatCount */.B4)(cancel.failed.length - terminal_MAX_LISTED_IDS)} more`);
    }
    return lines.length > 0 ? [lines] : [];
}
function ids(runIds) {
    const shown = runIds.slice(0, terminal_MAX_LISTED_IDS).map(id => terminalText(id, 80));
    const more = runIds.length - shown.length;
    return `${shown.join(', ')}${more > 0 ? ` and ${(0,format/* formatCount */.B4)(more)} more` : ''}`;
}
function listedLine({ gathered }) {
    const byStatus = schema/* EVALUATION_STATUSES */.co.filter(status => gathered.listedByStatus[status])
        .map(status => `${status} ${(0,format/* formatCount */.B4)(gathered.listedByStatus[status] ?? 0)}`)
        .join(' · ');
    return `Listed: ${counted(gathered.listedCount, 'evaluation')} matched the filters${byStatus ? ` (${byStatus})` : ''}.`;
}

;// CONCATENATED MODULE: ./src/run/start.ts


/**
 * How far before an attempt (by our clock) an evaluation it started may say it was submitted (by
 * the API's). The note taken before the POST, not this window, keeps out what others started
 * earlier, so the window can err wide: it only has to hold our own start when the clocks differ.
 */
const start_CLOCK_SKEW_MS = 60_000;
const MAX_START_ATTEMPTS = 3;
/**
 * The starts ended with an error. It names the starts that may have been billed but could not be
 * confirmed, and carries every evaluation that did start, so that none goes unnamed even when
 * telling of it (onStarted) is what failed.
 */
class StartError extends ApiError {
    failure;
    started;
    unconfirmed;
    constructor(failure, started, unconfirmed) {
        const api = failure instanceof ApiError ? failure : undefined;
        const head = api
            ? api.message
            : `Unexpected error: ${failure?.message ?? String(failure)}`;
        super([head, ...unconfirmed.map(describeUnconfirmed)].join(' '), api?.endpoint ?? 'starting evaluations', api?.status, api?.code, api?.ambiguous ?? false, api?.transient ?? false);
        this.failure = failure;
        this.started = started;
        this.unconfirmed = unconfirmed;
        this.name = 'StartError';
        this.cause = failure;
    }
}
/**
 * The run's start stage: one evaluation per prompt for this commit, each told to `starts` as soon
 * as it has started, so that an abort or the run's error cancels it. They are the judged set.
 */
function startStage(context, starts) {
    const { settings, client, limit, log } = context;
    return log.group(`Starting ${settings.promptIds.length} evaluation(s) for this commit`, () => starts.track(startEvaluations(client, settings.promptIds, settings, {
        limit,
        log: log.info,
        ledger: starts.ledger,
        onStarted: (item, adopted) => starts.record(item, adopted)
    }).catch((error) => {
        // what started is named even when telling of it is what failed
        if (error instanceof StartError)
            for (const { item, adopted } of error.started)
                if (!starts.has(item.evaluation.runId))
                    starts.record(item, adopted);
        throw error;
    })));
}
/**
 * Starts every prompt's evaluation within the bound. When one fails, no further POST begins (nor
 * after ledger.halt()), but those under way are waited for, checks included, so that what went
 * through is told to onStarted and what cannot be confirmed is named; then a StartError is thrown.
 * The evaluations come back in `promptIds` order.
 */
async function startEvaluations(client, promptIds, scope, options) {
    const { ledger } = options;
    const failures = [];
    const started = [];
    let skipped = 0;
    const items = await Promise.all(promptIds.map(promptId => options.limit.run(async () => {
        try {
            const outcome = await startOne(client, promptId, scope, options);
            if (!outcome) {
                skipped += 1;
                return undefined;
            }
            // kept before anything else can fail: whatever follows, this one is named
            started.push(outcome);
            options.onStarted(outcome.item, outcome.adopted);
            const { runId, evaluatorId } = outcome.item.evaluation;
            options.log(outcome.adopted
                ? `Evaluation ${runId} is new since the attempt: using it rather than starting (and paying for) another.`
                : `Started evaluation ${runId} of prompt ${promptId} (evaluator ${evaluatorId}).`);
            return outcome.item;
        }
        catch (error) {
            failures.push(error);
            ledger.halt();
            return undefined;
        }
        finally {
            ledger.mark(promptId, scope);
        }
    })));
    const unconfirmed = ledger.unconfirmed();
    if (failures.length > 0 || unconfirmed.length > 0 || skipped > 0)
        throw new StartError(failures[0] ?? haltedError(), started, unconfirmed);
    return items.filter(item => item !== undefined);
}
/** The failure of starts that a halt (a signal) stopped before any of them failed. */
function haltedError() {
    return new ApiError('Starting was stopped before every start was confirmed.', 'starting');
}
/** One prompt's start, with its checks; undefined when the ledger halted before its POST. */
async function startOne(client, promptId, scope, options) {
    const { ledger } = options;
    const now = options.now ?? Date.now;
    if (ledger.halted)
        return undefined;
    // What the scope holds before the POST, so that afterwards only a new evaluation can be ours.
    let known = new Set((await listedSince(client, promptId, scope, now() - start_CLOCK_SKEW_MS)).map(item => item.evaluation.runId));
    /** attempts whose outcome was unknown and whose check showed no evaluation */
    const unseen = [];
    const unconfirmed = (reason, attempts = unseen) => ledger.addUnconfirmed({ promptId, scope, attempts: [...attempts], reason });
    for (let attempt = 1;; attempt += 1) {
        if (ledger.halted) {
            // another prompt's start failed, or a signal came: no new POST, but an attempt nobody saw
            // go through is named
            if (unseen.length > 0)
                unconfirmed(notSeen(unseen.length));
            return undefined;
        }
        const attemptAt = now();
        ledger.mark(promptId, scope, 'posting', attemptAt);
        let failure;
        try {
            const evaluation = await client.createEvaluation(promptId, scope);
            return { item: { promptId, evaluation }, adopted: false };
        }
        catch (error) {
            if (!(error instanceof ApiError) || !error.ambiguous) {
                if (unseen.length > 0)
                    unconfirmed(notSeen(unseen.length));
                throw error;
            }
            failure = error;
        }
        const failedAt = now();
        options.log(`Starting an evaluation of prompt ${promptId} may have failed (${failure.message}); checking the listing before trying again.`);
        ledger.mark(promptId, scope, 'checking');
        let listed;
        try {
            listed = await listedSince(client, promptId, scope, attemptAt - start_CLOCK_SKEW_MS);
        }
        catch (error) {
            // the one way to know is gone: no further POST, and the start is named as it stands
            const why = error instanceof Error ? error.message : String(error);
            unconfirmed(`its answer was lost and the listing that would find it failed (${why})`, [
                ...unseen,
                attemptAt
            ]);
            throw failure;
        }
        const found = startedByAttempt(listed, known, attemptAt, failedAt);
        if (found)
            return { item: found, adopted: true };
        unseen.push(attemptAt);
        // what is listed now and was not taken is not this attempt's: none of it for the next one
        known = new Set([...known, ...listed.map(item => item.evaluation.runId)]);
        if (attempt >= MAX_START_ATTEMPTS) {
            unconfirmed(notSeen(unseen.length));
            throw new ApiError(`${failure.message} Tried ${attempt} times.`, failure.endpoint, failure.status, failure.code);
        }
    }
}
/** Why attempts whose check showed nothing are still named: a listing may lag a start. */
function notSeen(attempts) {
    return attempts > 1
        ? `their answers were lost and the listing showed no evaluation from any of the ${attempts}`
        : 'its answer was lost and the listing showed no evaluation from it';
}
/** The sentence that names a start that may have been billed, for the run's error and the abort's. */
function describeUnconfirmed({ promptId, scope, attempts, reason }) {
    const when = attempts.map(at => new Date(at).toISOString()).join(', ');
    const since = new Date(Math.min(...attempts)).toISOString();
    return `An evaluation of prompt ${promptId} (${describeScope(scope)}) may have been started by this run at ${when} and could not be confirmed: ${reason}. Look in Adaline for one submitted since ${since} before starting another.`;
}
/** The sentence for a start an abort could not wait out. */
function describeUnderWay({ promptId, scope, since, phase }) {
    const what = phase === 'posting' ? 'was in flight' : 'had lost its answer and was being checked';
    return `A start of prompt ${promptId} (${describeScope(scope)}) ${what} and its outcome is unknown: check Adaline for an evaluation submitted since ${new Date(since).toISOString()}.`;
}
function describeScope({ evaluatorId, datasetId }) {
    return `${evaluatorId ? `evaluator ${evaluatorId}` : 'every active evaluator'}, ${datasetId ? `dataset ${datasetId}` : "the evaluator's dataset"}`;
}
/**
 * The evaluation an attempt from `attemptAt` to `failedAt` may have started: not among those
 * `known` before it, submitted during the attempt (give or take the clock skew), and not being
 * cancelled. Of several, the one submitted nearest the attempt. Pure.
 */
function startedByAttempt(listed, known, attemptAt, failedAt) {
    const distance = (item) => Math.abs(item.evaluation.timeline.submittedAt - attemptAt);
    return listed
        .filter(({ evaluation }) => !known.has(evaluation.runId) &&
        evaluation.timeline.submittedAt >= attemptAt - start_CLOCK_SKEW_MS &&
        evaluation.timeline.submittedAt <= failedAt + start_CLOCK_SKEW_MS &&
        // one already being cancelled is someone else's decision, never the start we lost
        !schema/* BEING_CANCELLED */.Ah.includes(evaluation.status))
        .sort((a, b) => distance(a) - distance(b))[0];
}
/** The scope's evaluations submitted at or after `since`, as the listing shows them. */
async function listedSince(client, promptId, scope, since) {
    const listed = [];
    const filters = {
        evaluatorId: scope.evaluatorId,
        datasetId: scope.datasetId,
        createdAfter: since
    };
    for await (const page of client.listEvaluations(promptId, filters)) {
        for (const { evaluation } of page.items) {
            if (evaluation.timeline.submittedAt >= since)
                listed.push({ promptId, evaluation });
        }
    }
    return listed;
}

;// CONCATENATED MODULE: ./src/run/abort.ts

/** How long an abort waits for the starts under way to have an outcome. */
const START_SETTLE_MS = 2_500;
/** How long cancelling what this run started may take once the starts have settled. */
const ABORT_GRACE_MS = 4_000;
/**
 * The transport of the cancels sent on abort. They must land within ABORT_GRACE_MS whatever the
 * run's polls meet, so they get one quick retry at most and never wait out a long Retry-After.
 * Each request (the cancel, and the read of a refused one) ends within 40% of the grace: 3.2 s
 * for both of a 4 s grace, with room to spare for reporting. They skip the rate governor's queue:
 * they are few (one per evaluation this run started) and urgent, and a turn behind a run slowed
 * by 429s, or held until a reset, could come after the grace.
 */
const ABORT_TRANSPORT = {
    timeoutMs: 1_500,
    maxAttempts: 2,
    baseDelayMs: 250,
    deadlineMs: ABORT_GRACE_MS * 0.4
};
const SIGNALS = ['SIGINT', 'SIGTERM'];
/** Listens for SIGINT and SIGTERM until stopListening is called. */
function onAbort(options) {
    let signalled = false;
    const listener = (signal) => {
        if (signalled)
            return;
        signalled = true;
        void stop(options)
            // whatever went wrong, the face still ends the run and says it was stopped
            .catch((error) => `What became of the run's starts is not known: ${asError(error).message}.`)
            .then(account => options.stopped(signal, account));
    };
    for (const signal of SIGNALS)
        process.on(signal, listener);
    return {
        get signalled() {
            return signalled;
        },
        stopListening() {
            if (signalled)
                return;
            for (const signal of SIGNALS)
                process.off(signal, listener);
        }
    };
}
async function stop(options) {
    const run = options.run();
    if (!run)
        return '';
    await within(run.settleStarts().catch(() => undefined), options.settleMs ?? START_SETTLE_MS);
    let cancels = 'off';
    if (options.cancel() && run.starts().cancellable.length > 0) {
        cancels =
            (await within(run.cancelStarted().catch((error) => asError(error)), options.graceMs ?? ABORT_GRACE_MS)) ?? 'late';
    }
    return describeAbort(run.starts(), cancels);
}
/** The promise's value, or undefined when it is not there within `ms`. The timer keeps the process up. */
function within(promise, ms) {
    let timer;
    const late = new Promise(resolve => (timer = setTimeout(() => resolve(undefined), ms)));
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
function asError(error) {
    return error instanceof Error ? error : new Error(String(error));
}
/**
 * The sentence(s) on what an abort did with the run's starts: cancelled, left running and why,
 * and starts whose outcome is unknown. Every evaluation that may be running is named. Pure.
 */
function describeAbort(starts, cancels) {
    const parts = [];
    const accepted = typeof cancels === 'object' && !(cancels instanceof Error) ? cancels : undefined;
    const cancelled = new Set(accepted?.cancelled ?? []);
    const finished = new Set(accepted?.finished.map(f => f.runId) ?? []);
    if (cancelled.size > 0)
        parts.push(`Cancelled the evaluation(s) this run started: ${[...cancelled].join(', ')}.`);
    const left = starts.cancellable.filter(id => !cancelled.has(id) && !finished.has(id));
    if (left.length > 0) {
        if (cancels === 'off')
            parts.push(`Left running (cancel-on-abort is false): ${left.join(', ')}.`);
        else if (cancels === 'late')
            parts.push(`Cancelling did not finish in time; these may still run: ${left.join(', ')}.`);
        else if (cancels instanceof Error)
            parts.push(`Cancelling failed (${cancels.message}); these may still run: ${left.join(', ')}.`);
        else {
            const failed = new Map(accepted?.failed.map(f => [f.runId, f.message]));
            for (const runId of left)
                parts.push(failed.has(runId)
                    ? `Could not cancel ${runId}, which may still run: ${failed.get(runId)}`
                    : `Not cancelled, as its start was answered only while cancelling: ${runId}.`);
        }
    }
    if (starts.adopted.length > 0)
        parts.push(`Not cancelled, as taken from the listing after a lost answer (it may be another run's): ${starts.adopted.join(', ')}.`);
    for (const start of starts.underWay)
        parts.push(describeUnderWay(start));
    for (const start of starts.unconfirmed)
        parts.push(describeUnconfirmed(start));
    return parts.join(' ');
}

// EXTERNAL MODULE: ./node_modules/valibot/dist/index.mjs
var valibot_dist = __nccwpck_require__(7934);
;// CONCATENATED MODULE: ./src/github/octokit.ts
/**
 * The GitHub API client of the lookups and the comment. It is imported lazily: most runs never
 * need it, and it is the largest part of the bundle to load. Octokit sets no timeout, so a hung
 * GitHub API would hold the step for minutes; here every request gets its own.
 */
const GITHUB_TIMEOUT_MS = 30_000;
async function githubClient(token, options = {}) {
    const { timeoutMs = GITHUB_TIMEOUT_MS } = options;
    const { getOctokit } = await __nccwpck_require__.e(/* import() */ 413).then(__nccwpck_require__.bind(__nccwpck_require__, 2413));
    const octokit = getOctokit(token);
    octokit.hook.wrap('request', async (request, options) => {
        const signal = AbortSignal.timeout(timeoutMs);
        // set on these options, not a copy: the auth hook within reads them, not what it is passed
        options.request = { ...options.request, signal };
        try {
            return await request(options);
        }
        catch (error) {
            // Octokit reports a timeout as an HTTP 500 "The operation was aborted due to timeout"
            if (signal.aborted) {
                throw Object.assign(new Error(`no answer from the GitHub API in ${timeoutMs / 1000} s`, { cause: error }), { name: 'TimeoutError' });
            }
            throw error;
        }
    });
    return octokit;
}

;// CONCATENATED MODULE: ./src/github/lookups.ts
/**
 * Asks the GitHub API what the event payload does not say, and believes only answers in the shape
 * GitHub documents: anything else (an HTML page, text, an unknown status) is "cannot tell".
 */




/** The four statuses GitHub's compare API documents. */
const COMPARE_STATUSES = [
    'ahead',
    'behind',
    'diverged',
    'identical'
];
const commits = valibot_dist/* pipe */.FsL(valibot_dist/* number */.aig(), valibot_dist/* safeInteger */.Y2b(), valibot_dist/* minValue */.Wwf(0));
/** Whether the counts agree with the status: a status the counts contradict is no clear answer. */
function agrees({ status, ahead_by, behind_by }) {
    const ahead = ahead_by > 0;
    const behind = behind_by > 0;
    if (status === 'identical')
        return !ahead && !behind;
    if (status === 'ahead')
        return ahead && !behind;
    if (status === 'behind')
        return !ahead && behind;
    return ahead && behind;
}
const compareFields = valibot_dist/* looseObject */._H3({
    status: valibot_dist/* picklist */.KIO(COMPARE_STATUSES),
    ahead_by: commits,
    behind_by: commits
});
/** GET /repos/{owner}/{repo}/compare/{basehead}: what the force-push question reads. */
const compareSchema = valibot_dist/* pipe */.FsL(compareFields, valibot_dist/* check */.z6Y(agrees, 'the status disagrees with ahead_by and behind_by'));
const person = valibot_dist/* nullish */.cl6(valibot_dist/* looseObject */._H3({ date: valibot_dist/* nullish */.cl6(valibot_dist/* string */.YjP()) }));
/** GET /repos/{owner}/{repo}/commits/{ref}: the head commit's dates. */
const commitSchema = valibot_dist/* looseObject */._H3({
    commit: valibot_dist/* looseObject */._H3({ author: person, committer: person })
});
/**
 * A compare answer as Octokit hands it over (parsed JSON, or text, or bytes when the answer was
 * not JSON): its status when the answer is clear, otherwise why not.
 */
function readCompare(data) {
    const checked = (0,schema/* checkShape */.eA)(compareSchema, data, 'body');
    if (checked.ok)
        return { value: checked.value.status };
    return { error: `answered ${unclear(data, checked.problem)}` };
}
/** A commit answer: the author and committer dates it gives, or why it cannot be read. */
function readCommitDates(data) {
    const checked = (0,schema/* checkShape */.eA)(commitSchema, data, 'body');
    if (!checked.ok)
        return { error: `answered ${unclear(data, checked.problem)}` };
    const { author, committer } = checked.value.commit;
    const dates = [
        dated("the head commit's author date", author?.date, isoTime),
        dated("the head commit's committer date", committer?.date, isoTime)
    ];
    return { value: dates.filter((date) => date !== undefined) };
}
/** What was wrong with an answer, in a few words: its text could be a whole HTML page. */
function unclear(data, problem) {
    if (typeof data === 'string')
        return 'with text, not a JSON object (an HTML page, or bad JSON)';
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data))
        return 'with a body that is not JSON';
    return `in an unexpected shape: ${problem.length > 160 ? `${problem.slice(0, 159)}…` : problem}`;
}
async function lookUp(needed, token, options = {}) {
    if (!needed.compare && !needed.headCommit)
        return {};
    if (!token) {
        const error = 'no github-token was given to ask the GitHub API';
        return {
            ...(needed.compare ? { compare: { error } } : {}),
            ...(needed.headCommit ? { headCommitDates: { error } } : {})
        };
    }
    const octokit = await githubClient(token, options);
    const lookups = {};
    if (needed.compare) {
        const { owner, repo, base, head } = needed.compare;
        const what = `GitHub compare ${base.slice(0, 7)}...${head.slice(0, 7)}`;
        try {
            const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
                owner,
                repo,
                basehead: `${base}...${head}`,
                per_page: 1
            });
            const answer = readCompare(data);
            lookups.compare = 'value' in answer ? answer : { error: `${what} ${answer.error}` };
        }
        catch (error) {
            lookups.compare = { error: `${what} failed: ${describe(error)}` };
        }
        // A plain fast-forward needs no date: nothing will be cancelled.
        if ('value' in lookups.compare && ['ahead', 'identical'].includes(lookups.compare.value)) {
            return lookups;
        }
    }
    if (needed.headCommit) {
        const { owner, repo, sha } = needed.headCommit;
        const what = `GitHub commit ${sha.slice(0, 7)}`;
        try {
            const { data } = await octokit.rest.repos.getCommit({ owner, repo, ref: sha });
            const answer = readCommitDates(data);
            lookups.headCommitDates = 'value' in answer ? answer : { error: `${what} ${answer.error}` };
        }
        catch (error) {
            lookups.headCommitDates = { error: `${what} lookup failed: ${describe(error)}` };
        }
    }
    return lookups;
}
/** A failed request in a line: an error page's text can be a whole HTML page. */
function describe(error) {
    const status = error.status;
    let message = error.message ?? String(error);
    if (message.length > 200)
        message = `${message.slice(0, 199)}…`;
    return status ? `HTTP ${status} ${message}` : message;
}

;// CONCATENATED MODULE: ./src/run/decide.ts
/** Whether this run supersedes evaluations, decided from the GitHub event that triggered it. */


/**
 * Whether the triggering GitHub event supersedes evaluations, asking GitHub what the payload lacks.
 * `now` is this run's clock, read once the answers are in: no cutoff may lie beyond it.
 */
async function decideFromEvent(settings, event, now = Date.now) {
    const lookups = await lookUp(lookupsNeeded(settings.cancelSuperseded, event), settings.githubToken);
    return decideSupersede(settings.cancelSuperseded, event, lookups, now());
}

;// CONCATENATED MODULE: ./src/judge/supersede.ts
/**
 * Which listed evaluations a new commit made obsolete: the rule the supersede decision and the
 * filters make, and the test each listed evaluation goes through. Pure.
 */

/**
 * An evaluation is superseded when it is still in flight, in scope, not kept, and was submitted
 * before the new commit. Anything uncertain (no submit time) is left alone: cancel less.
 */
function isSuperseded({ promptId, evaluation }, rule) {
    const submittedAt = evaluation.timeline.submittedAt;
    return (schema/* IN_FLIGHT */.Ri.includes(evaluation.status) &&
        rule.promptIds.includes(promptId) &&
        (rule.evaluatorId === undefined || evaluation.evaluatorId === rule.evaluatorId) &&
        (rule.datasetId === undefined || evaluation.datasetId === rule.datasetId) &&
        !rule.keep.has(evaluation.runId) &&
        Number.isFinite(submittedAt) &&
        submittedAt < rule.cutoff);
}
/** The rule under the decision, in the settings' scope; undefined when nothing is superseded. */
function supersedeRule(decision, scope) {
    if (!decision.act)
        return undefined;
    return {
        cutoff: decision.cutoff,
        promptIds: scope.promptIds,
        evaluatorId: scope.evaluatorId,
        datasetId: scope.datasetId,
        keep: scope.keepRunIds
    };
}

;// CONCATENATED MODULE: external "node:timers/promises"
const external_node_timers_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");
;// CONCATENATED MODULE: ./src/judge/judged-set.ts
/** The group an evaluation is judged in under `scope: latest`. */
function groupOf({ promptId, evaluation }) {
    return JSON.stringify([promptId, evaluation.evaluatorId, evaluation.datasetId ?? null]);
}
/** Newest first; ties broken by run ID so the choice never depends on listing order. */
function newerFirst(a, b) {
    const byTime = b.evaluation.timeline.submittedAt - a.evaluation.timeline.submittedAt;
    if (byTime !== 0)
        return byTime;
    return a.evaluation.runId < b.evaluation.runId
        ? -1
        : a.evaluation.runId > b.evaluation.runId
            ? 1
            : 0;
}
/**
 * Builds the judged set as pages stream in, keeping only what the scope needs:
 * `latest` keeps one evaluation per (prompt, evaluator, dataset), `all` keeps every one.
 * An evaluation seen twice (listed under two statuses while it moved) counts once.
 */
class JudgedSetBuilder {
    scope;
    latest = new Map();
    all = new Map();
    constructor(scope) {
        this.scope = scope;
    }
    add(item) {
        if (this.scope === 'all') {
            if (!this.all.has(item.evaluation.runId))
                this.all.set(item.evaluation.runId, item);
            return;
        }
        const group = groupOf(item);
        const current = this.latest.get(group);
        if (!current || newerFirst(item, current) < 0)
            this.latest.set(group, item);
    }
    /** The judged evaluations, newest first. */
    result() {
        const items = this.scope === 'all' ? this.all.values() : this.latest.values();
        return [...items].sort(newerFirst);
    }
}
/** The judged set of a finished listing (the builder, for callers that hold everything). */
function judgedSet(items, scope) {
    const builder = new JudgedSetBuilder(scope);
    for (const item of items)
        builder.add(item);
    return builder.result();
}
/**
 * The completed evaluations a judged one is compared with: for each (prompt, evaluator, dataset),
 * the newest completed ones, as many as the scope needs (`latest` and started evaluations need two:
 * the newest may be the judged one itself).
 *
 * Adding is O(1) (amortised O(keep log keep) when a group is bounded) and a lookup O(log n): a group
 * is sorted once when first asked, not on every evaluation added, which made `scope: all`
 * quadratic in the evaluations listed.
 */
class BaselineIndex {
    keep;
    groups = new Map();
    constructor(keep) {
        this.keep = keep;
    }
    add(item) {
        if (item.evaluation.status !== 'completed')
            return;
        const key = groupOf(item);
        let group = this.groups.get(key);
        if (!group)
            this.groups.set(key, (group = { items: [], runIds: new Set(), sorted: true }));
        const { runId } = item.evaluation;
        if (group.runIds.has(runId))
            return;
        group.items.push(item);
        group.runIds.add(runId);
        group.sorted = false;
        if (group.items.length > this.keep) {
            sortGroup(group);
            for (const dropped of group.items.splice(this.keep))
                group.runIds.delete(dropped.evaluation.runId);
        }
    }
    /** The newest completed evaluation of the same group submitted before `item`. */
    baselineFor(item) {
        const group = this.groups.get(groupOf(item));
        if (!group)
            return undefined;
        sortGroup(group);
        const before = item.evaluation.timeline.submittedAt;
        // newest first, so the ones submitted before `item` are a suffix: the first of them is the one
        return group.items[firstIndex(group.items, other => other.evaluation.timeline.submittedAt < before)];
    }
}
function sortGroup(group) {
    if (group.sorted)
        return;
    group.items.sort(newerFirst);
    group.sorted = true;
}
/** The first index whose item meets `test`, in items where those that meet it are a suffix. */
function firstIndex(items, test) {
    let low = 0;
    let high = items.length;
    while (low < high) {
        const middle = (low + high) >>> 1;
        if (test(items[middle]))
            high = middle;
        else
            low = middle + 1;
    }
    return low;
}
/**
 * The baselines of judged evaluations that have none among the listed ones, found in listings of
 * completed evaluations read newest first: the first completed evaluation of an evaluation's group
 * submitted before it is its baseline, and nothing read later can be newer.
 *
 * A candidate settles the waiting evaluations of its group submitted after it: with each group kept
 * newest first those are the group's first still waiting, so a candidate costs O(1) plus what it
 * settles, not a pass over every evaluation still waiting.
 */
class BaselineFinder {
    waiting = new Map();
    left;
    /** each baseline found, by the judged evaluation's run ID */
    found = new Map();
    constructor(judged) {
        judged.forEach((item, place) => {
            const key = groupOf(item);
            let group = this.waiting.get(key);
            if (!group)
                this.waiting.set(key, (group = { items: [], next: 0 }));
            group.items.push({ item, place });
        });
        for (const group of this.waiting.values())
            group.items.sort((a, b) => b.item.evaluation.timeline.submittedAt - a.item.evaluation.timeline.submittedAt);
        this.left = judged.length;
    }
    /** Whether every judged evaluation has its baseline. */
    get done() {
        return this.left === 0;
    }
    /** The next candidate, in newest-first order. */
    add(candidate) {
        if (candidate.evaluation.status !== 'completed')
            return;
        const group = this.waiting.get(groupOf(candidate));
        if (!group)
            return;
        const before = candidate.evaluation.timeline.submittedAt;
        let end = group.next;
        while (end < group.items.length &&
            group.items[end].item.evaluation.timeline.submittedAt > before)
            end += 1;
        const settled = group.items.slice(group.next, end);
        group.next = end;
        this.left -= settled.length;
        // the last judged first: the order in which `found` always took them, which the JSON report shows
        settled.sort((a, b) => b.place - a.place);
        for (const { item } of settled)
            this.found.set(item.evaluation.runId, candidate);
    }
}

;// CONCATENATED MODULE: ./src/run/concurrency.ts
/**
 * A bound on requests in flight that can be lowered while work runs: a rate limit (429) halves it,
 * so concurrent cancels back off for the rest of the run instead of hammering the API.
 */
class AdaptiveLimit {
    current;
    active = 0;
    waiting = [];
    peakActive = 0;
    halved = 0;
    constructor(current) {
        this.current = current;
    }
    get limit() {
        return this.current;
    }
    /** The most tasks that ran at once. */
    get peak() {
        return this.peakActive;
    }
    /** How many times a rate limit halved the bound: the wait reads it to poll less often. */
    get halvings() {
        return this.halved;
    }
    /** Halves the bound (at least 1). */
    halve() {
        this.halved += 1;
        this.current = Math.max(1, Math.floor(this.current / 2));
    }
    async run(task) {
        while (this.active >= this.current)
            await new Promise(resolve => this.waiting.push(resolve));
        this.active += 1;
        this.peakActive = Math.max(this.peakActive, this.active);
        try {
            return await task();
        }
        finally {
            this.active -= 1;
            this.waiting.shift()?.();
        }
    }
}
/**
 * Runs `task` on every item within the bound; results keep the items' order. As many workers as
 * the bound allows take the items in turn, so the bound's queue holds a few workers, not every item
 * (a queue of 100,000 waiting tasks, shifted one by one, would cost time quadratic in the items).
 */
async function mapWithin(limit, items, task) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const index = next++;
            results[index] = await limit.run(() => task(items[index]));
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit.limit, items.length) }, worker));
    return results;
}

;// CONCATENATED MODULE: ./src/run/plan.ts


function planListings(settings, rule) {
    const { evaluatorId, datasetId, createdAfter } = settings;
    const statuses = settings.statuses.length > 0 ? settings.statuses : [undefined];
    const listings = [];
    for (const promptId of settings.promptIds) {
        const covered = new Set();
        for (const status of statuses) {
            // Without a created-after filter this listing already holds the in-flight ones it matches.
            const findsCandidates = rule !== undefined &&
                createdAfter === undefined &&
                (status === undefined || schema/* IN_FLIGHT */.Ri.includes(status));
            if (findsCandidates)
                (status ? [status] : schema/* IN_FLIGHT */.Ri).forEach(s => covered.add(s));
            listings.push({
                promptId,
                filters: { status, evaluatorId, datasetId, createdAfter },
                judge: true
            });
        }
        if (!rule)
            continue;
        for (const status of schema/* IN_FLIGHT */.Ri) {
            if (covered.has(status))
                continue;
            listings.push({
                promptId,
                filters: { status, evaluatorId, datasetId, createdBefore: rule.cutoff },
                judge: false
            });
        }
    }
    return listings;
}
/**
 * Whether the input filters may keep completed evaluations out of the main listings: a status
 * filter without `completed`, or created-after. The baseline is the newest completed evaluation
 * before a judged one whatever the filters, so then it is looked for separately.
 */
function filtersMayHideBaselines(settings) {
    return (settings.createdAfter !== undefined ||
        (settings.statuses.length > 0 && !settings.statuses.includes('completed')));
}
/**
 * Where to look for the baselines the filters may have hidden: for each prompt with judged
 * evaluations, its completed ones (of the evaluator and dataset inputs) submitted before the newest
 * judged one, newest first, so that the search can stop as soon as each has its baseline.
 */
function planBaselineListings(settings, judged) {
    if (!filtersMayHideBaselines(settings))
        return [];
    const { evaluatorId, datasetId } = settings;
    // in one pass over the judged ones: a pass per prompt would cost prompts × judged
    const newestOf = new Map();
    for (const { promptId, evaluation } of judged)
        newestOf.set(promptId, Math.max(newestOf.get(promptId) ?? -Infinity, evaluation.timeline.submittedAt));
    return settings.promptIds.flatMap(promptId => {
        const newest = newestOf.get(promptId) ?? -Infinity;
        if (newest === -Infinity)
            return [];
        return [
            {
                promptId,
                filters: {
                    status: 'completed',
                    evaluatorId,
                    datasetId,
                    createdBefore: newest,
                    sort: 'createdAt:desc'
                }
            }
        ];
    });
}
/** A listing as the log names it: its prompt, its filters and, unless it judges, its purpose. */
function describeListing({ promptId, filters, judge }) {
    const parts = Object.entries(filters)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${key.startsWith('created') ? (0,format/* formatTime */.fU)(value) : value}`);
    const purpose = judge ? '' : ' (in flight, to find superseded)';
    return `prompt ${promptId}${parts.length ? ` [${parts.join(' ')}]` : ''}${purpose}`;
}

;// CONCATENATED MODULE: ./src/run/baselines.ts
/**
 * Each judged evaluation's baseline, the newest completed evaluation of its prompt, evaluator and
 * dataset submitted before it: from the listings, or, when the filters may have kept it out of
 * them, from its prompt's completed evaluations listed for the purpose, newest first.
 */






/**
 * The run's baseline stage: each judged evaluation's baseline by run ID, searched for where the
 * filters may hide it, with a warning for what max-pass-rate-drop then cannot judge.
 */
async function baselinesStage(context, gathered, judged) {
    const { settings, client, limit, log } = context;
    const baselines = new Map();
    for (const item of judged) {
        const baseline = gathered.baselines.baselineFor(item);
        if (baseline)
            baselines.set(item.evaluation.runId, baseline);
    }
    const missing = judged.filter(item => !baselines.has(item.evaluation.runId));
    const listings = planBaselineListings(settings, missing);
    if (listings.length > 0) {
        const search = await log.group(`Listing completed evaluations for ${missing.length} baseline(s) the filters may hide`, () => searchBaselines(client, listings, missing, { limit, log: log.info }));
        for (const [runId, baseline] of search.found)
            baselines.set(runId, baseline);
        for (const promptId of search.cut)
            log.warning(`Looked for baselines among the newest ${(0,format/* formatCount */.B4)(MAX_BASELINE_PAGES * schema/* MAX_PAGE_SIZE */.H4)} completed evaluations of prompt ${promptId} only; some judged evaluations have none among them.`);
    }
    const without = judged.filter(item => !baselines.has(item.evaluation.runId));
    if (settings.policy.limits['max-pass-rate-drop'] !== undefined && without.length > 0) {
        const ids = without.slice(0, 10).map(item => item.evaluation.runId);
        const more = without.length > ids.length ? ` and ${without.length - ids.length} more` : '';
        log.warning(`max-pass-rate-drop does not apply to ${(0,format/* plural */.LS)(without.length, 'judged evaluation')} with no earlier completed evaluation of the same prompt, evaluator and dataset: ${ids.join(', ')}${more}.`);
    }
    return baselines;
}
/** Pages of completed evaluations a baseline search looks through per prompt, at most. */
const MAX_BASELINE_PAGES = 5;
/**
 * The baselines of judged evaluations that the filtered listings had none for: each baseline
 * listing is read newest first only until every one of its prompt has its baseline, and for at
 * most MAX_BASELINE_PAGES.
 */
async function searchBaselines(client, listings, missing, options) {
    const search = { found: new Map(), cut: [] };
    // by prompt once: a filter per listing would cost prompts × judged
    const missingOf = new Map();
    for (const item of missing) {
        const ofPrompt = missingOf.get(item.promptId);
        if (ofPrompt)
            ofPrompt.push(item);
        else
            missingOf.set(item.promptId, [item]);
    }
    await mapWithin(options.limit, listings, async (listing) => {
        const finder = new BaselineFinder(missingOf.get(listing.promptId) ?? []);
        const label = describeListing({ ...listing, judge: true });
        for await (const page of client.listEvaluations(listing.promptId, listing.filters)) {
            for (const { evaluation } of page.items)
                finder.add({ promptId: listing.promptId, evaluation });
            options.log(`${label} (for baselines): page ${page.page}, ${page.items.length} evaluation(s)`);
            await (0,external_node_timers_promises_namespaceObject.setImmediate)(); // as in gather: a signal is heard between pages
            if (finder.done)
                break;
            if (page.page >= MAX_BASELINE_PAGES) {
                if (page.hasMore)
                    search.cut.push(listing.promptId);
                break;
            }
        }
        for (const [runId, baseline] of finder.found)
            search.found.set(runId, baseline);
    });
    return search;
}

;// CONCATENATED MODULE: ./src/run/cancel.ts




/**
 * The fate of a cancel that was not accepted, given the status read back after it (undefined:
 * not read, or the read failed). Only a status that shows the evaluation no longer runs clears
 * it. Pure.
 */
function cancelFate(statusNow) {
    if (statusNow !== undefined && schema/* BEING_CANCELLED */.Ah.includes(statusNow))
        return 'cancelled';
    if (statusNow !== undefined && !schema/* IN_FLIGHT */.Ri.includes(statusNow))
        return 'finished';
    return 'failed';
}
/**
 * Whether a failed cancel is worth reading back: only a refusal (4xx) may be about an evaluation
 * that finished or is being cancelled; a rate-limited (429) or timed-out (408) one changed nothing,
 * and a 5xx or a network failure given up on is not delivered whatever the status. Pure.
 */
function isRefusal(status) {
    return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408;
}
/** The run's cancel stage: the superseded evaluations cancelled (dry-run: named), in one group of the log. */
function cancelStage(context, superseded) {
    const { settings, client, limit, log } = context;
    return log.group(`Cancelling ${superseded.length} superseded evaluation(s)${settings.dryRun ? ' (dry-run)' : ''}`, () => cancelSuperseded(client, superseded, {
        dryRun: settings.dryRun,
        limit,
        log: log.info,
        warn: log.warning
    }));
}
async function cancelSuperseded(client, superseded, options) {
    const outcome = { cancelled: [], finished: [], failed: [] };
    const describe = ({ evaluation: e }) => `${e.runId} (${e.status}, ${e.progress.percent}% done, submitted ${(0,format/* formatTime */.fU)(e.timeline.submittedAt)})`;
    if (options.dryRun) {
        for (const item of superseded) {
            options.log(`dry-run: would cancel ${describe(item)}`);
            outcome.cancelled.push(item.evaluation.runId);
        }
        return outcome;
    }
    await mapWithin(options.limit, superseded, async (item) => {
        const { runId } = item.evaluation;
        const { promptId } = item;
        try {
            const after = await client.cancelEvaluation(promptId, runId);
            options.log(`cancelled ${describe(item)}: now ${after.status}`);
            outcome.cancelled.push(runId);
            return;
        }
        catch (error) {
            if (!(error instanceof ApiError))
                throw error;
            const read = isRefusal(error.status) ? await readBack(client, item) : undefined;
            const status = typeof read === 'string' ? read : undefined;
            const fate = cancelFate(status);
            if (fate === 'cancelled') {
                options.log(`cancelled ${describe(item)}: already ${status} (${error.message})`);
                outcome.cancelled.push(runId);
            }
            else if (fate === 'finished') {
                options.warn(`Superseded evaluation ${runId} had already ${status} when its cancel arrived: ${error.message}`);
                outcome.finished.push({ runId, promptId, status: status, message: error.message });
            }
            else {
                // what matters first: that it still runs, when the read back says so
                const message = status !== undefined
                    ? `still ${status} after: ${error.message}`
                    : read instanceof ApiError
                        ? `${error.message} Reading it back failed too: ${read.message}`
                        : error.message;
                options.warn(`Could not cancel superseded evaluation ${runId}: ${message}`);
                outcome.failed.push({ runId, promptId, message });
            }
        }
    });
    // in the order given, whatever order the answers came in
    const order = new Map(superseded.map((item, index) => [item.evaluation.runId, index]));
    const byOrder = (a, b) => order.get(a) - order.get(b);
    outcome.cancelled.sort(byOrder);
    outcome.finished.sort((a, b) => byOrder(a.runId, b.runId));
    outcome.failed.sort((a, b) => byOrder(a.runId, b.runId));
    return outcome;
}
/** After a refused cancel, the evaluation's status now, or the error that kept us from knowing. */
async function readBack(client, item) {
    try {
        return (await client.getEvaluation(item.promptId, item.evaluation.runId)).status;
    }
    catch (error) {
        if (error instanceof ApiError)
            return error;
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/adaline/client.ts
/** The Adaline v2 endpoints the action uses, over the one transport in http.ts. */


/**
 * A listing longer than this many pages (200,000 evaluations, twice the 100,000 the benchmark
 * lists) is taken as an API that loops: at 10,000 pages a never-ending cursor cost 10,000 requests.
 */
const DEFAULT_MAX_PAGES = 1_000;
/** Empty pages in a row that still say hasMore before the listing is taken as looping. */
const MAX_EMPTY_PAGES_IN_A_ROW = 10;
function createClient(http, options = {}) {
    const { maxPages = DEFAULT_MAX_PAGES } = options;
    return {
        async *listEvaluations(promptId, filters) {
            const path = `/prompts/${encodeURIComponent(promptId)}/evaluations`;
            const trail = new CursorTrail(`GET ${path}`, maxPages, 'If it is really that long, narrow it with created-after.');
            let cursor;
            for (let page = 1;; page += 1) {
                const body = await http({
                    method: 'GET',
                    path,
                    query: { ...filters, limit: schema/* MAX_PAGE_SIZE */.H4, cursor },
                    schema: schema/* evaluationPageSchema */.Bd,
                    notFound: `Prompt ${promptId} was not found: check the prompt-id input and that the key's workspace owns it.`
                });
                // as the schema keeps them: the fields the action knows, for the `evaluations` output too
                const items = body.evaluations.map(evaluation => ({ evaluation }));
                const { hasMore, nextCursor } = body.pagination;
                yield { page, items, hasMore };
                if (!hasMore)
                    return;
                cursor = trail.next(page, items.length, nextCursor);
            }
        },
        async *listAllResults(promptId, runId, max) {
            const path = `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/results`;
            // a cap keeps the pages bounded; the trail still stops a cursor that repeats or never comes
            const trail = new CursorTrail(`GET ${path}`, maxPages, '');
            let cursor;
            let fetched = 0;
            for (let page = 1; fetched < max; page += 1) {
                const limit = Math.min(schema/* MAX_PAGE_SIZE */.H4, max - fetched);
                const body = await http({
                    method: 'GET',
                    path,
                    query: { expand: 'row', limit, cursor },
                    schema: schema/* resultPageSchema */.YT,
                    notFound: `Results of evaluation ${runId} of prompt ${promptId} were not found.`
                });
                // a page longer than asked for is cut: the cap holds whatever the API sends
                const results = body.results.slice(0, limit);
                fetched += results.length;
                const { hasMore, nextCursor } = body.pagination;
                yield { page, results, hasMore: hasMore || results.length < body.results.length };
                if (!hasMore)
                    return;
                cursor = trail.next(page, results.length, nextCursor);
            }
        },
        async *listEvaluators(promptId) {
            const path = `/prompts/${encodeURIComponent(promptId)}/evaluators`;
            const trail = new CursorTrail(`GET ${path}`, maxPages, '');
            let cursor;
            for (let page = 1;; page += 1) {
                const body = await http({
                    method: 'GET',
                    path,
                    query: { limit: schema/* MAX_PAGE_SIZE */.H4, cursor },
                    schema: schema/* evaluatorPageSchema */.yD,
                    notFound: `Prompt ${promptId} was not found when listing its evaluators.`
                });
                const { hasMore, nextCursor } = body.pagination;
                yield { page, evaluators: body.evaluators, hasMore };
                if (!hasMore)
                    return;
                cursor = trail.next(page, body.evaluators.length, nextCursor);
            }
        },
        async createEvaluation(promptId, { evaluatorId, datasetId }) {
            return http({
                method: 'POST',
                path: `/prompts/${encodeURIComponent(promptId)}/evaluations`,
                body: { ...(evaluatorId ? { evaluatorId } : {}), ...(datasetId ? { datasetId } : {}) },
                schema: schema/* evaluationSchema */.MF,
                idempotent: false,
                notFound: `Prompt ${promptId} was not found: check the prompt-id input and that the key's workspace owns it.`
            });
        },
        async getEvaluation(promptId, runId, deadlineMs) {
            const path = `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}`;
            const evaluation = await http({
                method: 'GET',
                path,
                deadlineMs,
                schema: schema/* evaluationSchema */.MF,
                notFound: `Evaluation ${runId} of prompt ${promptId} was not found.`
            });
            return theOneAsked(runId, evaluation, `GET ${path}`);
        },
        async listResults(promptId, runId, grade, limit) {
            const body = await http({
                method: 'GET',
                path: `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/results`,
                query: { grade, expand: 'row', limit: Math.min(limit, schema/* MAX_PAGE_SIZE */.H4) },
                schema: schema/* resultPageSchema */.YT,
                notFound: `Results of evaluation ${runId} of prompt ${promptId} were not found.`
            });
            return body.results.slice(0, limit);
        },
        async cancelEvaluation(promptId, runId) {
            const path = `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/cancel`;
            const evaluation = await http({
                method: 'POST',
                path,
                schema: schema/* evaluationSchema */.MF,
                notFound: `Evaluation ${runId} of prompt ${promptId} was not found.`
            });
            return theOneAsked(runId, evaluation, `POST ${path}`);
        }
    };
}
/**
 * The guards of a listing that pages by cursor: a page that says hasMore without a cursor, a cursor
 * seen before, empty pages without end and more pages than any real listing has each end it with
 * an ApiError, instead of a loop that never ends.
 */
class CursorTrail {
    endpoint;
    maxPages;
    hint;
    seen = new Set();
    emptyInARow = 0;
    constructor(endpoint, maxPages, 
    /** what to do about a listing that long, for the message */
    hint) {
        this.endpoint = endpoint;
        this.maxPages = maxPages;
        this.hint = hint;
    }
    /** The cursor of the page after `page`, which held `items` items and said hasMore. */
    next(page, items, nextCursor) {
        const { endpoint } = this;
        if (!nextCursor)
            throw new ApiError(`${endpoint} said hasMore without a nextCursor on page ${page}`, endpoint);
        if (this.seen.has(nextCursor))
            throw new ApiError(`${endpoint} repeated a cursor on page ${page}: the listing would never end`, endpoint);
        this.emptyInARow = items === 0 ? this.emptyInARow + 1 : 0;
        if (this.emptyInARow >= MAX_EMPTY_PAGES_IN_A_ROW)
            throw new ApiError(`${endpoint} sent ${this.emptyInARow} empty pages in a row that said hasMore (to page ${page}): the listing would never end`, endpoint);
        if (page >= this.maxPages)
            throw new ApiError(`${endpoint} still said hasMore after ${this.maxPages} pages of ${schema/* MAX_PAGE_SIZE */.H4}: taken as a listing that never ends.${this.hint ? ` ${this.hint}` : ''}`, endpoint);
        this.seen.add(nextCursor);
        return nextCursor;
    }
}
/** An answer about another evaluation than the one asked for would be judged as if it were that one. */
function theOneAsked(runId, evaluation, endpoint) {
    if (evaluation.runId !== runId) {
        throw new ApiError(`${endpoint} answered with evaluation ${evaluation.runId}, not the one asked for.`, endpoint);
    }
    return evaluation;
}

;// CONCATENATED MODULE: ./src/adaline/governor.ts
/**
 * One rate governor per process: every request the run makes to Adaline waits here for its turn.
 * Turns are spaced to a rate that each 429 halves and that then climbs back steadily (AIMD), under
 * the max-requests-per-minute cap when one is set; and no turn comes while the API's RateLimit
 * headers (or a 429's Retry-After) say the workspace's budget is spent. Adaline's limit is per
 * workspace, shared by every job: slowing the whole process after a 429, rather than only the
 * request that met it, is what keeps a fleet of jobs from colliding again and again.
 */

/** A 429 never slows the governor below this many requests a minute. */
const MIN_PER_MINUTE = 6;
/** Each minute without a 429 gives back at least this many requests a minute. */
const MIN_RECOVERY_PER_MINUTE = 20;
/**
 * The longest the governor holds every request on the API's word (a reset, a Retry-After): a
 * per-minute budget resets within a minute, and a longer hold would outlast requests' deadlines.
 */
const MAX_HOLD_MS = 60_000;
class RateGovernor {
    cap;
    minuteMs;
    now;
    sleep;
    /** when the next turn may come, by spacing */
    nextTurnAt = -Infinity;
    /** no turn before this: the API said its budget is spent */
    heldUntil = -Infinity;
    /** the rate the last 429 left, and when; it climbs back from there at `recovery` a minute */
    learned = Infinity;
    slowedAt = -Infinity;
    recovery = 0;
    /** a lower rate the RateLimit headers asked for, until a time */
    hinted;
    /** when each turn of the last minute came */
    turns;
    /** when each answer the API served (not a 429) came, in the last minute */
    served;
    firstTurnAt;
    throttled = 0;
    constructor(options = {}) {
        this.cap = options.maxPerMinute ?? Infinity;
        this.minuteMs = options.minuteMs ?? 60_000;
        this.now = options.now ?? Date.now;
        this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)));
        this.turns = new LastMinute(this.minuteMs);
        this.served = new LastMinute(this.minuteMs);
    }
    /** The 429s the governor has been told of. */
    get throttles() {
        return this.throttled;
    }
    /** The requests a minute allowed at `at`: the cap, what 429s left (climbing back), the headers' word. */
    ratePerMinute(at = this.now()) {
        const recovered = this.slowedAt === -Infinity
            ? Infinity
            : this.learned + (this.recovery * Math.max(0, at - this.slowedAt)) / this.minuteMs;
        const hinted = this.hinted && at < this.hinted.until ? this.hinted.perMinute : Infinity;
        return Math.min(this.cap, recovered, hinted);
    }
    /**
     * Waits for a request's turn; the time it was given, to hand back with `observe`. Undefined, at
     * once, when the turn would come after `deadlineAt`: the request cannot be made in time.
     */
    async turn(deadlineAt = Infinity) {
        let now = this.now();
        const rate = this.ratePerMinute(now);
        const slot = Math.max(now, this.nextTurnAt);
        if (Math.max(slot, this.heldUntil) > deadlineAt)
            return undefined;
        // turns are handed out in the order asked for, each `spacing` after the one before
        this.nextTurnAt = slot + (rate === Infinity ? 0 : this.minuteMs / rate);
        // a hold may begin while this turn waits: look again after each sleep
        let at = Math.max(slot, this.heldUntil);
        while (at > now) {
            if (at > deadlineAt)
                return undefined;
            await this.sleep(at - now);
            now = Math.max(this.now(), at);
            at = Math.max(slot, this.heldUntil);
        }
        this.record(at);
        return at;
    }
    /** Takes in an answer to a request whose turn came at `turnAt`: its RateLimit headers, a 429. */
    observe(turnAt, answer) {
        const now = this.now();
        const limit = readRateLimit(name => answer.headers.get(name), now);
        if (limit && limit.resetMs > 0) {
            const until = now + Math.min(limit.resetMs, MAX_HOLD_MS);
            if (limit.remaining === 0)
                this.heldUntil = Math.max(this.heldUntil, until);
            // what is left of the budget, spread over the time until it resets
            else
                this.hinted = { perMinute: (limit.remaining * this.minuteMs) / limit.resetMs, until };
        }
        if (answer.status !== 429) {
            this.served.add(now);
            return;
        }
        this.throttled += 1;
        const asked = retryAfter(answer.headers.get('retry-after'), now);
        if (asked !== undefined)
            this.heldUntil = Math.max(this.heldUntil, now + Math.min(asked, MAX_HOLD_MS));
        // requests sent before the last slowdown went out at the old rate: their 429s are that
        // slowdown's, and must not halve the rate again
        if (turnAt <= this.slowedAt)
            return;
        const tried = Math.min(this.ratePerMinute(now), this.perMinute(this.turns, now));
        // What the workspace served this process is nearer its share of a busy workspace than what it
        // tried: half of that ends a fleet's 429s sooner. Never below a quarter of what it tried; and
        // with nothing served yet (a 429 on the first requests) there is nothing to go by but what it tried.
        const served = this.served.count(now) > 0 ? this.perMinute(this.served, now) : tried;
        this.learned = Math.max(MIN_PER_MINUTE, tried / 4, Math.min(tried, served) / 2);
        // back to the rate that met the 429 in about a minute, unless another 429 comes first
        this.recovery = Math.max(MIN_RECOVERY_PER_MINUTE, this.learned);
        this.slowedAt = now;
    }
    /** Times of the last minute (or since the first turn, at least a second) as a rate a minute. */
    perMinute(times, now) {
        const span = Math.min(this.minuteMs, now - (this.firstTurnAt ?? now));
        return (times.count(now) * this.minuteMs) / Math.max(span, this.minuteMs / 60);
    }
    record(at) {
        this.firstTurnAt ??= at;
        this.turns.add(at);
    }
}
/** Times within the last minute, oldest first; the array is compacted now and then, not on every add. */
class LastMinute {
    minuteMs;
    times = [];
    head = 0;
    constructor(minuteMs) {
        this.minuteMs = minuteMs;
    }
    add(at) {
        this.times.push(at);
        this.forget(at);
    }
    count(now) {
        this.forget(now);
        return this.times.length - this.head;
    }
    forget(now) {
        while (this.head < this.times.length && this.times[this.head] < now - this.minuteMs)
            this.head += 1;
        if (this.head > 1_024 && this.head * 2 > this.times.length) {
            this.times = this.times.slice(this.head);
            this.head = 0;
        }
    }
}
const NUMBER = /^\d+(\.\d+)?$/;
/** An X-RateLimit-Reset this large is a Unix time in seconds (as GitHub's), not seconds from now. */
const UNIX_SECONDS = 1_000_000_000;
/**
 * The RateLimit headers in their common forms, the most pressing budget if several are given:
 * - the IETF draft's structured field (draft-ietf-httpapi-ratelimit-headers-07 on):
 *   `RateLimit: "default";r=0;t=30` (r remaining, t seconds to the reset);
 * - its earlier dictionary form `RateLimit: limit=100, remaining=0, reset=30`;
 * - its earlier separate fields `RateLimit-Remaining: 0` with `RateLimit-Reset: 30` (seconds);
 * - the de facto `X-RateLimit-Remaining` with `X-RateLimit-Reset` (seconds, or a Unix time in
 *   seconds), and `X-Rate-Limit-*` likewise.
 * Undefined when no form gives both what remains and when it resets. Pure.
 */
function readRateLimit(header, now) {
    const words = [];
    const structured = header('ratelimit');
    if (structured) {
        for (const member of structured.split(',')) {
            const r = /(?:^|;)\s*r=([^;\s]+)/.exec(member)?.[1];
            const t = /(?:^|;)\s*t=([^;\s]+)/.exec(member)?.[1];
            const word = fromParts(r, t, 'seconds', now);
            if (word)
                words.push(word);
        }
        const remaining = /(?:^|[,\s])remaining=([^,;\s]+)/.exec(structured)?.[1];
        const reset = /(?:^|[,\s])reset=([^,;\s]+)/.exec(structured)?.[1];
        const word = fromParts(remaining, reset, 'seconds', now);
        if (word)
            words.push(word);
    }
    for (const [prefix, reset] of [
        ['ratelimit', 'seconds'],
        ['x-ratelimit', 'seconds-or-unix'],
        ['x-rate-limit', 'seconds-or-unix']
    ]) {
        const word = fromParts(header(`${prefix}-remaining`), header(`${prefix}-reset`), reset, now);
        if (word)
            words.push(word);
    }
    // a spent budget first, the longest wait of those; else the least left per second
    const spent = words.filter(word => word.remaining === 0);
    if (spent.length > 0)
        return spent.reduce((a, b) => (b.resetMs > a.resetMs ? b : a));
    return words.reduce((a, b) => (!a || b.remaining / b.resetMs < a.remaining / a.resetMs ? b : a), undefined);
}
function fromParts(remaining, reset, form, now) {
    const left = remaining?.trim() ?? '';
    const until = reset?.trim() ?? '';
    if (!NUMBER.test(left) || !NUMBER.test(until))
        return undefined;
    const seconds = Number(until);
    const resetMs = form === 'seconds-or-unix' && seconds >= UNIX_SECONDS ? seconds * 1000 - now : seconds * 1000;
    return { remaining: Math.floor(Number(left)), resetMs: Math.max(0, resetMs) };
}

;// CONCATENATED MODULE: ./src/run/results-cache.ts


/** The most row results fetched for one evaluation: 50 pages of 200. */
const RESULTS_CAP = 10_000;
/** The run's row results, fetched at most once per evaluation (unless asked again with a higher cap). */
class ResultsCache {
    client;
    limit;
    kept = new Map();
    /** what `kept` came to, once it came */
    settled = new Map();
    requests = 0;
    constructor(client, limit) {
        this.client = client;
        this.limit = limit;
    }
    /**
     * The row results of these evaluations, at most `cap` each: those kept from an earlier ask when
     * they were fetched whole or under a cap as high, the others fetched now, within the run's bound
     * on requests in flight. A failure is kept too, so that a run does not ask a failing endpoint
     * again for each purpose.
     */
    async fetch(items, cap = RESULTS_CAP) {
        const before = this.requests;
        const answers = await mapWithin(this.limit, items, async (item) => {
            const { runId } = item.evaluation;
            let entry = this.kept.get(runId);
            if (entry === undefined || !covers(await entry, cap)) {
                entry = this.fetchOne(item, cap).then(fetched => {
                    this.settled.set(runId, fetched);
                    return fetched;
                });
                this.kept.set(runId, entry);
            }
            return [runId, await entry];
        });
        return { byRunId: new Map(answers), requests: this.requests - before };
    }
    /** Every row result of the evaluation, when they were fetched already, all of them; else undefined. */
    whole(runId) {
        const fetched = this.settled.get(runId);
        return fetched?.ok && fetched.leftOut === 0 ? fetched.results : undefined;
    }
    async fetchOne({ promptId, evaluation }, cap) {
        const results = [];
        let more = false;
        try {
            for await (const page of this.client.listAllResults(promptId, evaluation.runId, cap)) {
                this.requests += 1;
                results.push(...page.results);
                more = page.hasMore;
            }
        }
        catch (error) {
            if (!(error instanceof ApiError))
                throw error;
            return { ok: false, problem: error.message };
        }
        return {
            ok: true,
            results,
            leftOut: more ? leftOut(evaluation.metrics, results.length) : 0,
            cap
        };
    }
}
/** Whether what was kept answers an ask under `cap`. */
function covers(entry, cap) {
    return !entry.ok || entry.leftOut === 0 || entry.cap >= cap;
}
/**
 * How many results lie past the cap: the evaluation's runs less those fetched. The API said more
 * follow, so at least one, whatever the metrics say.
 */
function leftOut(metrics, fetched) {
    return Math.max(1, metrics.passRuns + metrics.failRuns + metrics.unknownRuns - fetched);
}

;// CONCATENATED MODULE: ./src/run/context.ts
/**
 * What every stage of one run shares: the settings, the API client with the run's bounds on it,
 * the abort's own client, and the log.
 */





/** Requests in flight at once (listings of several prompts, cancels); a 429 halves it. */
const CONCURRENCY = 8;
/** The context of one run; `abortTransport` times the abort's cancels (abort.ts's ABORT_TRANSPORT). */
function createContext(settings, log, abortTransport) {
    const limit = new AdaptiveLimit(CONCURRENCY);
    // every request of the run draws its turn from one governor: the workspace's limit is shared
    const governor = new RateGovernor({ maxPerMinute: settings.maxRequestsPerMinute });
    const client = createClient(createHttp({
        baseUrl: settings.baseUrl,
        apiKey: settings.apiKey,
        governor,
        onThrottle: () => limit.halve(),
        onRetry: ({ endpoint, attempt, delayMs, reason }) => log.info(`${endpoint}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`)
    }));
    // A transport of its own, no part in the run's limit nor its governor (see ABORT_TRANSPORT): a
    // cancel on abort never queues behind polls that hold every slot while they sleep out a 429.
    const abortClient = createClient(createHttp({ baseUrl: settings.baseUrl, apiKey: settings.apiKey, ...abortTransport }));
    return { settings, client, limit, abortClient, log, results: new ResultsCache(client, limit) };
}

;// CONCATENATED MODULE: ./src/run/gather.ts
/**
 * Runs the planned listings and streams every page into what the run needs: counts by status,
 * the judged set and the superseded candidates. Evaluations are not kept beyond that, so memory
 * stays bounded by the judged set however long the listing. Any listing error propagates: no
 * verdict and no cancel is ever made from a partial listing.
 */





/**
 * The run's listing stage: the listings the settings and the supersede rule call for, gathered in
 * one group of the log, and a line on what they held.
 */
async function gatherStage(context, rule) {
    const { settings, client, limit, log } = context;
    const listings = planListings(settings, rule);
    const gathered = await log.group(`Listing evaluations (${listings.length} listing(s))`, () => gather(client, listings, { scope: settings.policy.scope, rule, limit, log: log.info }));
    log.info(`Listed ${gathered.listedCount} evaluation(s) in ${gathered.pages} page(s); ${gathered.judged.length} to judge, ${gathered.superseded.length} superseded.`);
    return gathered;
}
async function gather(client, listings, options) {
    const { rule, log } = options;
    const judged = new JudgedSetBuilder(options.scope);
    const listed = new Set();
    const listedByStatus = {};
    const superseded = new Map();
    const baselines = new BaselineIndex(options.scope === 'all' ? Infinity : 2);
    let pages = 0;
    await mapWithin(options.limit, listings, async (listing) => {
        const label = describeListing(listing);
        let count = 0;
        for await (const page of client.listEvaluations(listing.promptId, listing.filters)) {
            pages += 1;
            count += page.items.length;
            for (const { evaluation } of page.items) {
                const item = { promptId: listing.promptId, evaluation };
                if (listing.judge && !listed.has(evaluation.runId)) {
                    listed.add(evaluation.runId);
                    listedByStatus[evaluation.status] = (listedByStatus[evaluation.status] ?? 0) + 1;
                }
                if (rule && isSuperseded(item, rule)) {
                    if (!superseded.has(evaluation.runId))
                        superseded.set(evaluation.runId, item);
                }
                else if (listing.judge) {
                    judged.add(item);
                    baselines.add(item);
                }
            }
            log(`${label}: page ${page.page}, ${page.items.length} evaluation(s), ${count} so far`);
            // a signal is handled only when the event loop turns, and a page already at hand (read
            // ahead, buffered) would follow without a turn: SIGINT must reach the abort handler
            await (0,external_node_timers_promises_namespaceObject.setImmediate)();
        }
    });
    // Something listed as superseded under one status may have been judged under another.
    const judgedItems = judged.result().filter(item => !superseded.has(item.evaluation.runId));
    return {
        listedCount: listed.size,
        listedByStatus,
        judged: judgedItems,
        superseded: [...superseded.values()],
        baselines,
        pages
    };
}

;// CONCATENATED MODULE: ./src/run/results.ts
/**
 * The run's results stage, for the JUnit report: every row result of the judged evaluations, kept
 * in the run's ResultsCache for any later purpose. Rows explain a verdict and never decide it, so
 * a failure to fetch them is a warning.
 */


/**
 * Every row result of the judged evaluations, one line on how many requests they took, and a
 * warning for each evaluation whose rows could not be fetched (its JUnit suite then stands on its
 * run counts).
 */
async function resultsStage(context, judged) {
    const { log } = context;
    const { byRunId, requests } = await context.results.fetch(judged);
    let rows = 0;
    let capped = 0;
    for (const [runId, fetched] of byRunId) {
        if (!fetched.ok) {
            log.warning(`Could not fetch the row results of ${runId}: ${fetched.problem} The JUnit report gives its run counts instead.`);
            continue;
        }
        rows += fetched.results.length;
        if (fetched.leftOut > 0)
            capped += 1;
    }
    const cut = capped > 0
        ? `; ${(0,format/* formatCount */.B4)(capped)} evaluation(s) had more than ${(0,format/* formatCount */.B4)(RESULTS_CAP)}, the rest left out`
        : '';
    // each page is one request; a retry of one is logged on its own line
    log.info(`Row results for the JUnit report: ${(0,format/* formatCount */.B4)(rows)} row(s) of ${(0,format/* formatCount */.B4)(byRunId.size)} evaluation(s) in ${(0,format/* formatCount */.B4)(requests)} request(s)${cut}.`);
    return byRunId;
}

;// CONCATENATED MODULE: ./src/run/names.ts
/**
 * The evaluators' titles, so that a report names each evaluation by what it checks rather than by
 * an ID: one listing per prompt of the judged evaluations, read only until every evaluator the
 * report shows is found. Names explain and never decide, so a listing that fails is a warning
 * and the report keeps the IDs.
 */



/** The run's names stage: evaluator titles by evaluator ID, for the evaluators in the report. */
async function namesStage(context, judged) {
    const { client, limit, log } = context;
    const wanted = new Map();
    for (const { promptId, evaluation } of judged) {
        const ids = wanted.get(promptId) ?? new Set();
        ids.add(evaluation.evaluatorId);
        wanted.set(promptId, ids);
    }
    const titles = new Map();
    if (wanted.size === 0)
        return titles;
    let pages = 0;
    let failed = 0;
    await mapWithin(limit, [...wanted], async ([promptId, ids]) => {
        try {
            for await (const page of client.listEvaluators(promptId)) {
                pages += 1;
                for (const evaluator of page.evaluators)
                    if (ids.has(evaluator.id))
                        titles.set(evaluator.id, evaluator.title);
                if ([...ids].every(id => titles.has(id)))
                    break;
            }
        }
        catch (error) {
            if (!(error instanceof ApiError))
                throw error;
            failed += 1;
            log.warning(`Could not list the evaluators of prompt ${promptId}; the report names its evaluations by evaluator ID: ${error.message}`);
        }
    });
    const evaluators = new Set([...wanted.values()].flatMap(ids => [...ids])).size;
    log.info(`Evaluator names: ${titles.size} of ${(0,format/* plural */.LS)(evaluators, 'evaluator')} named from ${(0,format/* plural */.LS)(pages, 'page')} of evaluators (${(0,format/* plural */.LS)(wanted.size, 'prompt')}${failed > 0 ? `, ${failed} failed` : ''})`);
    return titles;
}

;// CONCATENATED MODULE: ./src/run/rows.ts


/** At most this many evaluations get a section of rows. */
const MAX_EVALUATIONS_WITH_ROWS = 5;
/** Rows in one evaluation's section: failing ones, then unknown ones in the room left. */
const ROWS_PER_EVALUATION = 20;
/**
 * The judged evaluations whose rows are shown: those with failing or unknown runs, first those
 * that broke a rule (`first`), then the most failing runs (then the most unknown runs, then as
 * judged). Pure.
 */
function evaluationsWithRows(judged, first = new Set()) {
    const broke = (item) => (first.has(item.evaluation.runId) ? 1 : 0);
    return judged
        .map((item, index) => ({ item, index }))
        .filter(({ item: { evaluation: e } }) => e.metrics.failRuns + e.metrics.unknownRuns > 0)
        .sort((a, b) => broke(b.item) - broke(a.item) ||
        b.item.evaluation.metrics.failRuns - a.item.evaluation.metrics.failRuns ||
        b.item.evaluation.metrics.unknownRuns - a.item.evaluation.metrics.unknownRuns ||
        a.index - b.index)
        .slice(0, MAX_EVALUATIONS_WITH_ROWS)
        .map(({ item }) => item);
}
/**
 * The run's rows stage: the failing and unknown rows that explain the verdict, by run ID, those
 * of the evaluations that broke a rule (`first`) first.
 */
function rowsStage(context, judged, first = new Set()) {
    return rows_failingRows(context.client, judged, {
        limit: context.limit,
        warn: context.log.warning,
        whole: runId => context.results.whole(runId),
        first
    });
}
/** Failing then unknown rows, by run ID, of the evaluations whose rows are shown. */
async function rows_failingRows(client, judged, options) {
    const fetched = await mapWithin(options.limit, evaluationsWithRows(judged, options.first), async ({ promptId, evaluation }) => {
        const { runId, metrics } = evaluation;
        const whole = options.whole?.(runId);
        if (whole)
            return [runId, fromWhole(whole)];
        try {
            const fail = metrics.failRuns > 0
                ? await client.listResults(promptId, runId, 'fail', ROWS_PER_EVALUATION)
                : [];
            // unknown rows only fill the room the failing ones leave
            const room = ROWS_PER_EVALUATION - fail.length;
            const unknown = metrics.unknownRuns > 0 && room > 0
                ? await client.listResults(promptId, runId, 'unknown', room)
                : [];
            return [runId, [...fail, ...unknown]];
        }
        catch (error) {
            if (!(error instanceof ApiError))
                throw error;
            options.warn(`Could not fetch the failing rows of ${runId}: ${error.message}`);
            return [runId, []];
        }
    });
    return new Map(fetched.filter(([, rows]) => rows.length > 0));
}
/** The rows the requests below would give, taken from every row result in the API's order. Pure. */
function fromWhole(results) {
    const fail = results.filter(result => result.grade === 'fail').slice(0, ROWS_PER_EVALUATION);
    const unknown = results
        .filter(result => result.grade === 'unknown')
        .slice(0, ROWS_PER_EVALUATION - fail.length);
    return [...fail, ...unknown];
}

;// CONCATENATED MODULE: ./src/run/started.ts



/**
 * What the starts of one run are doing, shared by the starts, the engine and an abort: which are
 * under way, which could not be confirmed, and whether new POSTs may still begin.
 */
class StartLedger {
    stopped = false;
    underWayByPrompt = new Map();
    unconfirmedStarts = [];
    /** No POST begins after this (a start failed, or a signal came); checks still run. */
    halt() {
        this.stopped = true;
    }
    get halted() {
        return this.stopped;
    }
    underWay() {
        return [...this.underWayByPrompt.values()];
    }
    unconfirmed() {
        return [...this.unconfirmedStarts];
    }
    /** @internal the start of `promptId` is now in `phase`, or has an outcome (undefined) */
    mark(promptId, scope, phase, at) {
        if (!phase) {
            this.underWayByPrompt.delete(promptId);
            return;
        }
        const since = this.underWayByPrompt.get(promptId)?.since ?? at ?? Date.now();
        this.underWayByPrompt.set(promptId, { promptId, scope, since, phase });
    }
    /** @internal */
    addUnconfirmed(start) {
        this.unconfirmedStarts.push(start);
    }
}
/** The evaluations this run started, shared by the start and wait stages, the engine and an abort. */
class OwnStarts {
    context;
    /** what this run started, by run ID, as last seen */
    started = new Map();
    /** started evaluations taken from the listing after a lost answer: perhaps another run's */
    adopted = new Set();
    /** the starts, once begun, whatever they come to: an abort waits for them */
    starting;
    /** a signal came: the abort cancels and reports, not the run's own error path */
    aborting = false;
    ledger = new StartLedger();
    constructor(context) {
        this.context = context;
    }
    /** One evaluation this run started; `adopted` when taken from the listing after a lost answer. */
    record(item, adopted) {
        this.started.set(item.evaluation.runId, item);
        if (adopted)
            this.adopted.add(item.evaluation.runId);
    }
    has(runId) {
        return this.started.has(runId);
    }
    /** An evaluation as seen again (polled): kept if this run started it, so an abort cancels only what still runs. */
    remember(item) {
        if (this.started.has(item.evaluation.runId))
            this.started.set(item.evaluation.runId, item);
    }
    /** The starts under way, for settle() to wait for; given back as it is. */
    track(starting) {
        this.starting = starting;
        return starting;
    }
    /** The run IDs this run started so far. */
    runIds() {
        return [...this.started.keys()];
    }
    /** Stops new starts (a signal came) and resolves once those under way have an outcome. */
    async settle() {
        this.aborting = true;
        this.ledger.halt();
        await this.starting?.catch(() => undefined);
    }
    soFar() {
        return {
            started: this.runIds(),
            adopted: [...this.adopted],
            cancellable: this.cancellable().map(item => item.evaluation.runId),
            underWay: this.ledger.underWay(),
            unconfirmed: this.ledger.unconfirmed()
        };
    }
    /** Started by this run itself (not adopted), and queued or running when last seen. */
    cancellable() {
        return [...this.started.values()].filter(item => schema/* IN_FLIGHT */.Ri.includes(item.evaluation.status) && !this.adopted.has(item.evaluation.runId));
    }
    /**
     * A run that ends with an error after starting evaluations cannot judge them: like an abort, it
     * stops what it paid for (with cancel-on-abort), rather than leave it running and billed.
     */
    async cancelAfterError() {
        const { settings, client, log } = this.context;
        // once a signal came, the abort cancels (on its own transport, within its grace)
        if (this.aborting || !settings.cancelOnAbort || this.started.size === 0)
            return;
        try {
            const { cancelled } = await this.cancelOwn(client);
            if (cancelled.length > 0)
                log.warning(`The run ended with an error, so the ${cancelled.length === 1 ? 'evaluation' : 'evaluations'} it started ${cancelled.length === 1 ? 'was' : 'were'} cancelled (cancel-on-abort): ${cancelled.join(', ')}.`);
        }
        catch (error) {
            log.warning(`Could not cancel the evaluations this run started: ${error.message}`);
        }
    }
    /**
     * Cancels what this run started that was still queued or running when last seen. An adopted one
     * is left alone: when in doubt, cancel less, and it may be another run's paid evaluation.
     */
    async cancelOwn(via) {
        const { log } = this.context;
        const inFlight = [...this.started.values()].filter(item => schema/* IN_FLIGHT */.Ri.includes(item.evaluation.status));
        const running = inFlight.filter(item => !this.adopted.has(item.evaluation.runId));
        for (const item of inFlight.filter(item => this.adopted.has(item.evaluation.runId)))
            log.info(`Not cancelling ${item.evaluation.runId}: it was taken from the listing after a lost answer and may be another run's.`);
        // all at once: there is one per prompt, and time, not the rate limit, is what runs short
        return cancelSuperseded(via, running, {
            dryRun: false,
            limit: new AdaptiveLimit(Math.max(1, running.length)),
            log: log.info,
            warn: log.warning
        });
    }
}

;// CONCATENATED MODULE: ./src/run/wait.ts



const TERMINAL = ['completed', 'failed', 'cancelled'];
const POLL_MIN_MS = 2_000;
const POLL_MAX_MS = 30_000;
/** A poll near the end of the wait still gets this long, so the last look is a real one. */
const MIN_POLL_MS = 10_000;
/**
 * All the polls of a wait together stay under this many a minute (on average; jitter is ±20 %).
 * Adaline's rate limit is per workspace and may be as low as 100 a minute, shared with listings,
 * cancels and other runs, so the interval grows with the number of evaluations polled.
 */
const POLLS_PER_MINUTE = 60;
/** Each 429 during the wait doubles the interval's floor for the rest of it, up to this factor. */
const MAX_SLOWDOWN = 8;
/**
 * The least time between poll rounds: 2 s, or more when `polled` evaluations would otherwise
 * exceed the budget, times the slowdown 429s brought.
 */
function pollFloorMs(polled, slowdown = 1) {
    return Math.max(POLL_MIN_MS, (polled * 60_000) / POLLS_PER_MINUTE) * slowdown;
}
/**
 * The run's wait stage: the judged evaluations waited for, up to `waitMs`, in one group of the log;
 * `onSeen` is told of each as polled.
 */
async function waitStage(context, judged, waitMs, onSeen) {
    const { client, limit, log } = context;
    const pending = judged.filter(item => !TERMINAL.includes(item.evaluation.status)).length;
    const wait = await log.group(`Waiting up to ${(0,format/* formatDuration */.a3)(waitMs)} for ${pending} evaluation(s) to finish`, () => waitUntilTerminal(client, judged, {
        timeoutMs: waitMs,
        limit,
        log: log.info,
        warn: log.warning,
        onSeen
    }));
    if (!log.flat)
        await progressGroups(log, wait);
    return wait;
}
/**
 * The live progress lines interleave every evaluation, and groups cannot nest: once the wait is
 * over, each evaluation's lines again, in a group of its own.
 */
async function progressGroups(log, wait) {
    for (const item of wait.items) {
        const lines = wait.progress.get(item.evaluation.runId);
        if (!lines)
            continue;
        const { runId, status } = item.evaluation;
        await log.group(`Progress of ${runId} (prompt ${item.promptId}): ${status}`, async () => lines.forEach(line => log.info(line)));
    }
}
async function waitUntilTerminal(client, items, options) {
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms) => new Promise(resolve => setTimeout(resolve, ms)));
    const random = options.random ?? Math.random;
    const started = now();
    const latest = new Map(items.map(item => [item.evaluation.runId, item]));
    const progress = new Map();
    const logProgress = (evaluation) => {
        const line = progressLine(evaluation, now() - started);
        const lines = progress.get(evaluation.runId);
        if (lines)
            lines.push(line);
        else
            progress.set(evaluation.runId, [line]);
        options.log(line);
    };
    let pending = items.filter(item => !TERMINAL.includes(item.evaluation.status));
    for (const item of pending)
        logProgress(item.evaluation);
    let slowdown = 1;
    let delay = pollFloorMs(pending.length);
    while (pending.length > 0) {
        const remaining = options.timeoutMs - (now() - started);
        if (remaining <= 0)
            break;
        // ±20 % jitter keeps many runners from polling in step
        await sleep(Math.min(remaining, delay * (0.8 + 0.4 * random())));
        const halvingsBefore = options.limit.halvings;
        const polled = await mapWithin(options.limit, pending, async (item) => {
            try {
                const left = options.timeoutMs - (now() - started);
                const evaluation = await client.getEvaluation(item.promptId, item.evaluation.runId, Math.max(left, options.minPollMs ?? MIN_POLL_MS));
                return { before: item.evaluation, item: { ...item, evaluation } };
            }
            catch (error) {
                if (!(error instanceof ApiError) || !mayPass(error))
                    throw error;
                return { before: item.evaluation, item, failure: error };
            }
        });
        let moved = false;
        const failures = [];
        for (const { before, item, failure } of polled) {
            if (failure) {
                failures.push(failure);
                continue;
            }
            latest.set(item.evaluation.runId, item);
            options.onSeen?.(item);
            if (hasMoved(before, item.evaluation)) {
                moved = true;
                logProgress(item.evaluation);
            }
        }
        pending = polled.map(p => p.item).filter(item => !TERMINAL.includes(item.evaluation.status));
        const throttled = options.limit.halvings > halvingsBefore || failures.some(error => error.status === 429);
        if (throttled)
            slowdown = Math.min(MAX_SLOWDOWN, slowdown * 2);
        const floor = pollFloorMs(pending.length, slowdown);
        const ceiling = Math.max(POLL_MAX_MS, floor);
        if (failures.length > 0 || throttled) {
            // the API is struggling or asked us to slow down: back off faster than after a quiet poll
            delay = Math.min(ceiling, Math.max(floor, delay * 2));
        }
        else {
            delay = moved ? floor : Math.min(ceiling, Math.max(floor, delay * 1.5));
        }
        if (failures.length > 0) {
            options.warn(`Could not poll ${failures.length} of ${polled.length} evaluation(s) (${failures[0].message}); still waiting, next poll in about ${(0,format/* formatDuration */.a3)(delay)}.`);
        }
    }
    return {
        items: items.map(item => latest.get(item.evaluation.runId) ?? item),
        waitedMs: now() - started,
        timedOut: pending.map(item => item.evaluation.runId),
        progress
    };
}
/**
 * Whether a failed poll may succeed later, as the transport judged it: retries ran out on a
 * retryable failure. A 401, 403, 404, or a certificate or DNS error will not pass by waiting.
 */
function mayPass(error) {
    return error.transient;
}
function hasMoved(before, after) {
    return (before.status !== after.status ||
        before.progress.completedRows !== after.progress.completedRows ||
        before.progress.failedRows !== after.progress.failedRows ||
        before.progress.percent !== after.progress.percent);
}
/** "run_1 [██████░░░░░░░░░░░░░░] 30% 12/40 rows, 1 failed · running · 1.2 min" */
function progressLine(evaluation, elapsedMs) {
    const { percent, completedRows, totalRows, failedRows } = evaluation.progress;
    const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * 20);
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(20 - filled)}]`;
    const failed = failedRows > 0 ? `, ${failedRows} failed` : '';
    return `${evaluation.runId} ${bar} ${Math.round(percent)}% ${completedRows}/${totalRows} rows${failed} · ${evaluation.status} · ${(0,format/* formatDuration */.a3)(elapsedMs)}`;
}

;// CONCATENATED MODULE: ./src/run/engine.ts















function createEngine(settings, log) {
    const context = createContext(settings, log, ABORT_TRANSPORT);
    const starts = new OwnStarts(context);
    let supersededCancels;
    async function evaluate(decision) {
        const startedAt = Date.now();
        log.info(`Superseded evaluations: ${decision.act ? '' : 'nothing to cancel: '}${decision.reason}`);
        const gathered = await gatherStage(context, supersedeRule(decision, settings));
        const cancel = (supersededCancels = await cancelStage(context, gathered.superseded));
        try {
            let judged = gathered.judged;
            if (settings.start)
                judged = await startStage(context, starts);
            const wait = settings.waitMs === undefined
                ? undefined
                : await waitStage(context, judged, settings.waitMs, item => starts.remember(item));
            if (wait)
                judged = wait.items;
            const baselines = await baselinesStage(context, gathered, judged);
            const { verdict, metrics } = judgeRun(judged, baselines, wait);
            // every row only for a JUnit file; fetched first, so that the failing rows come from them
            const rowResults = settings.junitFile ? await resultsStage(context, judged) : undefined;
            const rows = await rowsStage(context, judged, (0,checks/* brokeARule */.v)(verdict.checks));
            const evaluatorTitles = await namesStage(context, judged);
            return {
                promptIds: settings.promptIds,
                scope: settings.policy.scope,
                dryRun: settings.dryRun,
                verdict,
                metrics,
                gathered: { ...gathered, judged },
                decision,
                cancelSuperseded: settings.cancelSuperseded,
                cancel,
                started: starts.runIds(),
                wait,
                baselines,
                comparesWithBaseline: settings.policy.limits['max-pass-rate-drop'] !== undefined,
                failingRows: rows,
                rowResults,
                evaluatorTitles,
                policy: settings.policy,
                evaluationUrl: settings.evaluationUrl,
                timing: { startedAt, finishedAt: Date.now() }
            };
        }
        catch (error) {
            await starts.cancelAfterError();
            throw error;
        }
    }
    /** The totals of the judged evaluations and the policy's verdict on them. */
    function judgeRun(judged, baselines, wait) {
        const evaluations = judged.map(item => item.evaluation);
        const metrics = (0,judge_metrics/* totals */.Sd)(evaluations);
        const verdict = (0,policy/* judge */.S4)(evaluations, metrics, settings.policy, {
            baselines: new Map([...baselines].map(([runId, item]) => [runId, item.evaluation])),
            waitedMs: wait?.waitedMs,
            waitTimedOut: (wait?.timedOut.length ?? 0) > 0
        });
        return { verdict, metrics };
    }
    return {
        evaluate,
        settleStarts: () => starts.settle(),
        cancelStarted: () => starts.cancelOwn(context.abortClient),
        starts: () => starts.soFar(),
        startedRunIds: () => starts.runIds(),
        supersededCancels: () => supersededCancels
    };
}

;// CONCATENATED MODULE: ./package.json
const package_namespaceObject = {"rE":"1.0.0"};
;// CONCATENATED MODULE: ./src/cli/flags.ts
/** The command's flags: their table, the --help text, and the action inputs they stand for. */

const HELP = `Usage: adaline-evals --prompt-id ID [options]

Gates on Adaline prompt evaluations: lists them, judges them against a policy, reports pass / fail /
unknown runs, cost, latency and tokens, and cancels the evaluations a new commit made obsolete.
The same engine as the GitHub Action, with its inputs as flags.

Environment:
  ADALINE_API_KEY            workspace API key (required)
  GITHUB_TOKEN               only for --cancel-superseded on a GitHub pull_request event
  NO_COLOR, FORCE_COLOR      the text report is coloured on a terminal only; NO_COLOR=1 never,
                             FORCE_COLOR=1 also when piped

Options:
  --prompt-id ID             prompt to list; repeat or separate with commas for several (required)
  --evaluator-id ID          only evaluations of this evaluator
  --dataset-id ID            only evaluations on this dataset
  --status LIST              only these statuses: queued, running, completed, failed, cancelled,
                             cancelling (repeat or separate with commas); default all
  --created-after TIME       ISO 8601, Unix ms, or a duration back from now (90m, 24h, 7d)
  --policy YAML              gate rules, e.g. 'max-fail-runs: 0'
  --policy-file PATH         gate rules from a YAML file
  --superseded-before TIME   cancel queued and running evaluations submitted before TIME
                             (e.g. the pipeline's start time on GitLab or Jenkins)
  --cancel-superseded MODE   never | force-push | new-commit, decided from the GitHub event in
                             GITHUB_EVENT_NAME / GITHUB_EVENT_PATH (as the action does)
  --keep-run-ids LIST        run IDs never to cancel
  --start                    start one evaluation per prompt for this commit and judge those
  --wait DURATION            wait up to DURATION (90s, 30m, 1h) for the judged evaluations to finish
  --cancel-on-abort BOOL     on Ctrl-C, SIGTERM or an error after starting, cancel the
                             evaluations this run started (default true)
  --dry-run                  report what would be cancelled, cancel nothing
  --fail-on-gate BOOL        exit 1 when the gate fails (default true)
  --base-url URL             API root (default https://api.adaline.ai/v2)
  --max-requests-per-minute N
                             at most N requests a minute to Adaline (this job's share of the
                             workspace's rate limit); default: slow down only after a 429
  --format FORMAT            text (default: sized to the terminal; when piped, COLUMNS or 80),
                             markdown (the job summary), or json (the JSON report)
  --junit FILE               also write a JUnit XML report to FILE (fetches every row result of
                             the judged evaluations): GitLab's artifacts:reports:junit, Jenkins'
                             junit step
  --report-file FILE         also write the JSON report (what --format json prints) to FILE
  --metrics-file FILE        also write OpenMetrics text to FILE: GitLab's
                             artifacts:reports:metrics
  --evaluation-url TEMPLATE  link each evaluation in --format markdown to Adaline: a URL with
                             {promptId}, {runId} and {evaluatorId} placeholders
  --quiet                    no progress on stderr
  -h, --help                 this help
  -v, --version              the version

Files are relative to the working directory; their folders are created. They are written after
the report is printed; one that cannot be written is named on stderr and the exit status is 3.

Exit status: 0 gate passed or skipped, 1 gate failed, 2 bad option, 3 API or other error, or a
file that cannot be written, 4 some superseded evaluations could not be cancelled and may still run (the report is printed,
and stderr names them; this wins over 1), 130 / 143 stopped by SIGINT / SIGTERM (after cancelling
what the run started, and naming what it could not).
`;
const OPTIONS = {
    'prompt-id': { type: 'string', multiple: true },
    'evaluator-id': { type: 'string' },
    'dataset-id': { type: 'string' },
    status: { type: 'string', multiple: true },
    'created-after': { type: 'string' },
    policy: { type: 'string' },
    'policy-file': { type: 'string' },
    'superseded-before': { type: 'string' },
    'cancel-superseded': { type: 'string' },
    'keep-run-ids': { type: 'string', multiple: true },
    start: { type: 'boolean' },
    wait: { type: 'string' },
    'cancel-on-abort': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'fail-on-gate': { type: 'string' },
    'base-url': { type: 'string' },
    'max-requests-per-minute': { type: 'string' },
    format: { type: 'string' },
    junit: { type: 'string' },
    'report-file': { type: 'string' },
    'metrics-file': { type: 'string' },
    'evaluation-url': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' }
};
/** The flags given; throws (parseArgs's TypeError) on an unknown flag or a missing value. */
function parseFlags(argv) {
    return (0,external_node_util_.parseArgs)({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
}
/**
 * The action's inputs, by name, as the flags and the environment give them: the key from
 * ADALINE_API_KEY, the token from GITHUB_TOKEN, and the policy as read (from --policy-file, or
 * --policy). readSettings then checks them as it checks the action's.
 */
function inputsFromFlags(values, env, policy) {
    return {
        'api-key': env.ADALINE_API_KEY ?? '',
        'github-token': env.GITHUB_TOKEN,
        'prompt-id': values['prompt-id']?.join('\n'),
        'evaluator-id': values['evaluator-id'],
        'dataset-id': values['dataset-id'],
        status: values.status?.join('\n'),
        'created-after': values['created-after'],
        policy,
        'cancel-superseded': values['cancel-superseded'],
        'keep-run-ids': values['keep-run-ids']?.join('\n'),
        'dry-run': values['dry-run'] ? 'true' : '',
        'fail-on-gate': values['fail-on-gate'],
        'base-url': values['base-url'],
        start: values.start ? 'true' : '',
        wait: values.wait,
        'cancel-on-abort': values['cancel-on-abort'],
        'max-requests-per-minute': values['max-requests-per-minute'],
        'junit-file': values.junit,
        'report-file': values['report-file'],
        'metrics-file': values['metrics-file'],
        'evaluation-url': values['evaluation-url']
    };
}
/** The flag that gives an action input, where its name differs from the input's. */
const FLAG_OF_INPUT = { 'junit-file': 'junit' };
/** `--flag` for an action input, as the command's messages name it. */
function flagOf(input) {
    return `--${FLAG_OF_INPUT[input] ?? input}`;
}
/**
 * How the command's messages name the inputs: the key and the token by their environment
 * variables, the rest by their flags; the policy by --policy-file when it came from a file.
 */
function commandNaming(values) {
    const named = {
        'api-key': 'ADALINE_API_KEY',
        'github-token': 'GITHUB_TOKEN',
        ...(values['policy-file'] !== undefined ? { policy: '--policy-file' } : {})
    };
    return {
        nameOf: input => named[input] ?? flagOf(input),
        keyRequired: 'set the environment variable to a workspace API key, from a secret variable of your CI (it is never printed).',
        wholeKey: 'Set ADALINE_API_KEY to the whole key, from a secret variable of your CI'
    };
}

;// CONCATENATED MODULE: ./src/cli/cli.ts
/**
 * `adaline-evals`: the action's engine on the command line, for GitLab CI, Jenkins and a
 * developer's shell. The same options as flags, the key from ADALINE_API_KEY, the report on stdout
 * (text, Markdown or JSON), progress on stderr, and exit 1 on a failed gate.
 */



















const EXIT = { passed: 0, gateFailed: 1, usage: 2, error: 3, cancelFailed: 4 };
/** The text report's width when stdout is not a terminal (a CI log, a file, a pager). */
const PIPED_WIDTH = 80;
/** Runs the command; returns the exit status. Output goes to the given streams. */
async function main(argv, env, out, err, stdout = { isTTY: false }) {
    let values;
    try {
        values = parseFlags(argv);
    }
    catch (error) {
        err(`adaline-evals: ${error.message}\nRun adaline-evals --help for the options.\n`);
        return EXIT.usage;
    }
    if (values.help) {
        out(HELP);
        return EXIT.passed;
    }
    if (values.version) {
        // bundled at build time: dist/cli/index.js carries its own version
        out(`adaline-evals ${package_namespaceObject.rE}\n`);
        return EXIT.passed;
    }
    const apiKey = env.ADALINE_API_KEY ?? '';
    const secrets = new Secrets();
    // one too short to be a key is refused by readSettings, and would hide its letters everywhere
    if (apiKey.trim().length >= API_KEY_MIN)
        secrets.add(apiKey.trim());
    // run inside GitHub Actions too, where the runner obeys workflow commands on stdout and stderr
    const print = (text) => out(inertLines(secrets.redact(text)));
    const tell = (text) => err(inertLines(secrets.redact(text)));
    let engine;
    let abort;
    try {
        const format = parseFormat(values.format);
        const policy = values['policy-file'] !== undefined
            ? readPolicyFile(values['policy-file'])
            : (values.policy ?? '');
        const inputs = inputsFromFlags(values, env, policy);
        const now = Date.now();
        const settings = await readSettings(name => inputs[name] ?? '', {
            now,
            mask: secret => secrets.add(secret)
        });
        const cutoff = parseSupersededBefore(values['superseded-before'] ?? '', now);
        const log = values.quiet ? silentLog : stderrLog(tell, text => secrets.redact(text));
        const event = readEvent(env);
        const decision = await decide(settings, cutoff, event);
        engine = createEngine(settings, log);
        const running = engine;
        abort = onAbort({
            run: () => running,
            cancel: () => settings.cancelOnAbort,
            stopped: (signal, account) => {
                const cancels = running.supersededCancels();
                const cancelFailed = cancels ? cancelFailedMessage(cancels) : undefined;
                tell(`adaline-evals: stopped by ${signal}; no verdict was reached.${account ? ` ${account}` : ''}${cancelFailed ? ` ${cancelFailed}` : ''}\n`);
                process.exit(128 + external_node_os_namespaceObject.constants.signals[signal]); // 130 for SIGINT, 143 for SIGTERM
            }
        });
        const report = await engine.evaluate(decision).finally(() => abort?.stopListening());
        // once a signal came, the abort reports and exits
        if (abort.signalled)
            return untilExit();
        print(cli_render(report, format, {
            width: reportWidth(env, stdout),
            color: useColor(env, stdout.isTTY),
            commit: commitOf(env, event)
        }));
        // after the report, so that a file that cannot be written takes nothing from stdout
        const unwritten = await writeTextFiles(buildReportFiles(report, settings), text => secrets.redact(text));
        for (const { input, path, problem } of unwritten)
            tell(`adaline-evals: ${flagOf(input)}: cannot write ${JSON.stringify(path)}: ${problem}\n`);
        const failed = report.verdict.gate === 'failed';
        // after the report: superseded evaluations that may still run fail the command whatever the gate
        const cancelFailed = cancelFailedMessage(report.cancel);
        if (cancelFailed) {
            tell(`adaline-evals: ${cancelFailed}\n`);
            return EXIT.cancelFailed;
        }
        if (unwritten.length > 0)
            return EXIT.error;
        if (failed && !settings.failOnGate)
            tell('The gate failed, but --fail-on-gate is false: exit 0.\n');
        return failed && settings.failOnGate ? EXIT.gateFailed : EXIT.passed;
    }
    catch (error) {
        if (abort?.signalled)
            return untilExit();
        if (error instanceof InputError) {
            tell(`adaline-evals: ${error.describe(commandNaming(values))}\n`);
            return EXIT.usage;
        }
        const message = error instanceof ApiError || error instanceof judge_metrics/* TotalsError */.st
            ? error.message
            : `Unexpected error: ${error.stack ?? String(error)}`;
        // one message: what ended the run, what it had started (the command has no started output),
        // and superseded evaluations that may still run
        const started = engine?.startedRunIds() ?? [];
        const named = started.length > 0 ? ` This run had started: ${started.join(', ')}.` : '';
        const cancels = engine?.supersededCancels();
        const cancelFailed = cancels ? cancelFailedMessage(cancels) : undefined;
        tell(`adaline-evals: ${clipLine(secrets.redact(`${message}${named}${cancelFailed ? ` ${cancelFailed}` : ''}`))}\n`);
        return EXIT.error;
    }
}
/** The abort ends the process (with 130 or 143) once it has cancelled and told; until then, wait. */
function untilExit() {
    return new Promise(() => undefined);
}
/** An explicit cutoff (--superseded-before) wins; otherwise the GitHub event decides, as in the action. */
async function decide(settings, cutoff, event) {
    if (cutoff !== undefined) {
        return {
            act: true,
            cutoff,
            reason: `evaluations submitted before ${(0,format/* formatTime */.fU)(cutoff)} are superseded (--superseded-before)`
        };
    }
    return decideFromEvent(settings, event);
}
function cli_render(report, format, terminal) {
    if (format === 'json')
        return jsonReportText(buildJsonReport(report));
    if (format === 'markdown')
        return buildSummary(report);
    return buildTerminalReport(report, terminal);
}
/**
 * The terminal's width; when piped, COLUMNS if it is set to a width (a CI log wider than 80), or
 * 80.
 */
function reportWidth(env, stdout) {
    if (stdout.isTTY && stdout.columns)
        return stdout.columns;
    const columns = Number(env.COLUMNS);
    return Number.isInteger(columns) && columns >= 20 && columns <= 1000 ? columns : PIPED_WIDTH;
}
/**
 * Colour on a terminal only; NO_COLOR (set, not empty) turns it off and wins; FORCE_COLOR (set,
 * not empty, not 0 or false) turns it on where stdout is piped, as in a CI log that shows colour.
 */
function useColor(env, isTTY) {
    if (env.NO_COLOR)
        return false;
    const force = env.FORCE_COLOR;
    if (force)
        return !/^(0|false)$/i.test(force);
    return isTTY;
}
/**
 * The commit the run is for, where the CI says: GitLab's CI_COMMIT_SHA, Jenkins' GIT_COMMIT, or
 * on GitHub the pull request's head (GITHUB_SHA is then the merge commit) or GITHUB_SHA.
 */
function commitOf(env, event) {
    const head = event.payload.pull_request?.head?.sha;
    return (env.CI_COMMIT_SHA ||
        env.GIT_COMMIT ||
        (typeof head === 'string' && head ? head : undefined) ||
        env.GITHUB_SHA ||
        undefined);
}
const silentLog = {
    flat: true,
    info: () => undefined,
    warning: () => undefined,
    group: (_, work) => work()
};
/** Progress on stderr, a line a message, redacted before it is cut to LOG_LINE_LIMIT. */
function stderrLog(write, redact) {
    const line = (message) => inertLogLine(clipLine(redact(message)));
    return {
        flat: true,
        info: message => write(`${line(message)}\n`),
        warning: message => write(`warning: ${line(message)}\n`),
        group: async (title, work) => {
            write(`${line(title)}\n`);
            return work();
        }
    };
}


/***/ }),

/***/ 6264:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Ar: () => (/* binding */ isDateTime),
/* harmony export */   B4: () => (/* binding */ formatCount),
/* harmony export */   BD: () => (/* binding */ formatCost),
/* harmony export */   BK: () => (/* binding */ formatPointsDelta),
/* harmony export */   DZ: () => (/* binding */ tidy),
/* harmony export */   E1: () => (/* binding */ formatRelativeDelta),
/* harmony export */   FV: () => (/* binding */ escapeMarkdown),
/* harmony export */   LS: () => (/* binding */ plural),
/* harmony export */   a3: () => (/* binding */ formatDuration),
/* harmony export */   fU: () => (/* binding */ formatTime),
/* harmony export */   l9: () => (/* binding */ formatPercent),
/* harmony export */   mr: () => (/* binding */ plainDecimal),
/* harmony export */   zq: () => (/* binding */ MAX_DATE_MS)
/* harmony export */ });
/**
 * The one place that turns numbers, times and API text into text for people: the reports, the
 * policy's broken-rule messages, the event's reasons and the run's log lines all use it.
 */
/** Drops binary floating-point noise from sums (0.1 + 0.2 → 0.3); integers are left exact. */
function tidy(value) {
    return Number.isInteger(value) ? value : Number(value.toPrecision(15));
}
/**
 * A number as a plain decimal at full precision, for outputs that other steps parse:
 * no exponent (1e-7 → "0.0000001"), no separators, no rounding beyond the float itself.
 */
function plainDecimal(value) {
    if (!Number.isFinite(value))
        throw new RangeError(`not a finite number: ${value}`);
    const text = String(value);
    const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
    if (!match)
        return text;
    const [, sign, lead, fraction = '', exp] = match;
    const digits = lead + fraction;
    const point = 1 + Number(exp);
    if (point <= 0)
        return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length)
        return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
/** The most a JavaScript Date can hold either side of 1970, in ms: ±100,000,000 days. */
const MAX_DATE_MS = 8.64e15;
/** Whether `ms` is a time a Date can hold (toISOString throws a RangeError on any other). */
function isDateTime(ms) {
    return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}
/**
 * A Unix ms time as ISO 8601 UTC; a number no Date can hold (a hostile answer's 1e300) is written
 * as it is and said to be so, never thrown on.
 */
function formatTime(ms) {
    return isDateTime(ms) ? new Date(ms).toISOString() : `${ms} ms (outside the range of dates)`;
}
/** 1234567 → "1,234,567" for people; outputs use plainDecimal. */
function formatCount(value) {
    return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
}
/** A count with its noun, singular or plural as the count asks: "1 evaluation", "2 evaluations". */
function plural(count, noun, nouns = `${noun}s`) {
    return `${formatCount(count)} ${count === 1 ? noun : nouns}`;
}
/** USD with enough digits that small per-evaluation costs don't read as $0.00. */
function formatCost(usd) {
    if (usd === 0)
        return '$0';
    if (usd < 0.01)
        return `$${usd.toPrecision(2)}`;
    return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
}
/** Milliseconds as "850 ms", "12.3 s", "4.2 min". */
function formatDuration(ms) {
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 60_000)
        return `${(ms / 1000).toFixed(1)} s`;
    if (ms < 3_600_000)
        return `${(ms / 60_000).toFixed(1)} min`;
    return `${(ms / 3_600_000).toFixed(1)} h`;
}
/** A 0..1 rate as a percentage with at most `digits` decimals: 0.875 → "87.5%". */
function formatPercent(rate, digits = 1) {
    return `${Number((rate * 100).toFixed(digits))}%`;
}
/** A change of rate in percentage points: +2.5 pp, −10 pp, ±0 pp. */
function formatPointsDelta(delta, digits = 1) {
    const points = Number((delta * 100).toFixed(digits));
    if (points === 0)
        return '±0 pp';
    return `${points > 0 ? '+' : '−'}${Math.abs(points)} pp`;
}
/** A change relative to a baseline: +12%, −3.5%, ±0%; — when the baseline is 0. */
function formatRelativeDelta(now, before) {
    if (before === 0)
        return now === 0 ? '±0%' : '—';
    const percent = Number((((now - before) / before) * 100).toFixed(1));
    if (percent === 0)
        return '±0%';
    return `${percent > 0 ? '+' : '−'}${Math.abs(percent)}%`;
}
// What API text could use to inject: Markdown emphasis, code, links, images, table cells,
// strikethrough, math, HTML tags; autolinks (scheme://, www., e-mail) and @mentions. Each becomes a
// numeric character reference, which renders as the same character but is never read as structure,
// in Markdown and inside an HTML block (such as a <details> section) alike, where backslash escapes
// would not apply. An underscore between letters or digits (run_01) cannot open or close emphasis,
// so IDs stay readable.
const SPECIALS = /[\\`*[\]|!~$&<>"]|(?<![a-z0-9])_|_(?![a-z0-9])|:(?=\/\/)|@|(?<=www)\./gi;
const toReference = (char) => `&#${char.charCodeAt(0)};`;
/**
 * The one escape for API text placed in Markdown (summary and comment): inert inside a table cell,
 * a line or an HTML block, on one line, and cut to `maxLength` so one hostile field cannot flood
 * the report.
 */
function escapeMarkdown(text, maxLength = 120) {
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    let value = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
    if (value.length > maxLength)
        value = value.slice(0, maxLength - 1) + '…';
    return value.replace(SPECIALS, toReference);
}


/***/ }),

/***/ 550:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   M: () => (/* binding */ ruleChecks),
/* harmony export */   v: () => (/* binding */ brokeARule)
/* harmony export */ });
/* harmony import */ var _format_js__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(6264);
/* harmony import */ var _metrics_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(8346);


/** Every rule the limits set, in the policy's order, then allow-status. */
function ruleChecks(input) {
    const { judged, metrics, limits, allowed, broken } = input;
    const withRuns = (pick) => judged.filter(e => pick(e.metrics) > 0).map(e => e.runId);
    const rate = (value) => (value === null ? 'no runs' : (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatPercent */ .l9)(value, 2));
    const figures = {
        'max-fail-runs': limit => ({
            figure: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(metrics.failRuns),
            limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(limit),
            runIds: withRuns(m => m.failRuns)
        }),
        'max-unknown-runs': limit => ({
            figure: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(metrics.unknownRuns),
            limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(limit),
            runIds: withRuns(m => m.unknownRuns)
        }),
        'max-failed-rows': limit => ({
            figure: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(metrics.failedRows),
            limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(limit),
            runIds: judged.filter(e => e.progress.failedRows > 0).map(e => e.runId)
        }),
        'max-tokens': limit => ({
            figure: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(metrics.totalTokens),
            limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(limit)
        }),
        'max-cost': limit => ({ figure: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCost */ .BD)(metrics.totalCost), limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCost */ .BD)(limit) }),
        'max-fail-rate': limit => ({ figure: rate(metrics.failRate), limit: rate(limit) }),
        'min-pass-rate': limit => ({ figure: rate(metrics.passRate), limit: rate(limit) }),
        'max-avg-latency': limit => ({
            figure: metrics.avgLatency === null ? 'no runs' : (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatDuration */ .a3)(metrics.avgLatency),
            limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatDuration */ .a3)(limit)
        }),
        'max-pass-rate-drop': limit => worstDrop(judged, input.baselines, limit)
    };
    const checks = [];
    for (const [rule, limit] of Object.entries(limits)) {
        const figureOf = figures[rule];
        if (limit === undefined || !figureOf)
            continue;
        const { figure, limit: shown, runIds } = figureOf(limit);
        // the figure's name as the broken rule's message spells it: max-fail-runs → fail-runs
        const held = `${rule.replace(/^(max|min)-/, '')} ${figure}, within ${rule} ${shown}`;
        checks.push(check(rule, figure, shown, held, broken.get(rule), runIds));
    }
    const outside = judged.filter(e => !allowed.includes(e.status)).map(e => e.runId);
    const inside = `${(0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(judged.length - outside.length)} of ${(0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatCount */ .B4)(judged.length)}`;
    const limit = allowed.join(', ');
    const noun = judged.length === 1 ? 'evaluation' : 'evaluations';
    checks.push(check('allow-status', inside, limit, `${inside} judged ${noun} in allow-status [${limit}]`, broken.get('allow-status'), outside));
    return checks;
}
/** The judged evaluations that broke a rule, by run ID: their failing rows are shown first. */
function brokeARule(checks) {
    return new Set(checks.filter(c => !c.ok).flatMap(c => c.runIds ?? []));
}
function check(rule, figure, limit, held, brokenMessage, runIds) {
    if (brokenMessage === undefined)
        return { rule, ok: true, figure, limit, message: held };
    return { rule, ok: false, figure, limit, message: brokenMessage, ...(runIds ? { runIds } : {}) };
}
/** The largest fall of a judged evaluation's pass rate below its baseline's, in points. */
function worstDrop(judged, baselines, limit) {
    let worst;
    const dropped = [];
    for (const evaluation of judged) {
        const baseline = baselines?.get(evaluation.runId);
        if (!baseline)
            continue;
        const now = (0,_metrics_js__WEBPACK_IMPORTED_MODULE_0__/* .totals */ .Sd)([evaluation]).passRate;
        const before = (0,_metrics_js__WEBPACK_IMPORTED_MODULE_0__/* .totals */ .Sd)([baseline]).passRate;
        if (now === null || before === null)
            continue;
        const drop = before - now;
        if (worst === undefined || drop > worst)
            worst = drop;
        if (drop > limit)
            dropped.push(evaluation.runId);
    }
    return {
        figure: worst === undefined ? 'no baseline' : (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatPointsDelta */ .BK)(-worst),
        limit: (0,_format_js__WEBPACK_IMPORTED_MODULE_1__/* .formatPointsDelta */ .BK)(-limit),
        runIds: dropped
    };
}


/***/ }),

/***/ 8346:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   GA: () => (/* binding */ checkTotals),
/* harmony export */   Sd: () => (/* binding */ totals),
/* harmony export */   st: () => (/* binding */ TotalsError)
/* harmony export */ });
/* unused harmony export DecimalSum */
/* harmony import */ var _format_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(6264);

/**
 * The figures Adaline answered cannot be added up exactly: a count whose total passes 2^53 (past
 * which a number rounds), or amounts whose total passes the largest number. A gate judged on
 * such a total could pass on a rounded figure, so there is no verdict. An expected error: the
 * faces print its message alone.
 */
class TotalsError extends Error {
    figure;
    constructor(
    /** the figure as the API names it, e.g. metrics.totalCost */
    figure, why) {
        super(`The figures Adaline answered cannot be added up exactly: the total of ${figure} over the judged evaluations ${why}. There is no verdict; check these evaluations' metrics in Adaline, or narrow the judged set (created-after, evaluator-id, scope: latest).`);
        this.figure = figure;
        this.name = 'TotalsError';
    }
}
const PAST_SAFE = `passes ${Number.MAX_SAFE_INTEGER.toLocaleString('en-US')}, beyond which counts are rounded`;
const PAST_MAX = 'is beyond the largest number (1.8e308)';
/** A count's running total, exact or refused. */
class CountSum {
    figure;
    total = 0;
    constructor(figure) {
        this.figure = figure;
    }
    add(value) {
        // both safe: an unsafe sum means the exact one passed 2^53 - 1 and may have been rounded
        this.total += value;
        if (!Number.isSafeInteger(this.total))
            throw new TotalsError(this.figure, PAST_SAFE);
    }
    value() {
        return this.total;
    }
}
function totals(evaluations) {
    let count = 0;
    const passRuns = new CountSum('metrics.passRuns');
    const failRuns = new CountSum('metrics.failRuns');
    const unknownRuns = new CountSum('metrics.unknownRuns');
    const failedRows = new CountSum('progress.failedRows');
    const totalTokens = new CountSum('metrics.totalTokenCount');
    const totalCost = new DecimalSum();
    const totalLatency = new DecimalSum();
    for (const { metrics, progress } of evaluations) {
        count += 1;
        passRuns.add(metrics.passRuns);
        failRuns.add(metrics.failRuns);
        unknownRuns.add(metrics.unknownRuns);
        failedRows.add(progress.failedRows);
        totalCost.add(metrics.totalCost);
        totalLatency.add(metrics.totalLatency);
        totalTokens.add(metrics.totalTokenCount);
    }
    const runs = new CountSum('runs (passRuns + failRuns + unknownRuns)');
    for (const sum of [passRuns, failRuns, unknownRuns])
        runs.add(sum.value());
    const cost = finite(totalCost.value(), 'metrics.totalCost');
    const latency = finite(totalLatency.value(), 'metrics.totalLatency');
    const pass = passRuns.value();
    const fail = failRuns.value();
    const all = runs.value();
    return {
        evaluations: count,
        passRuns: pass,
        failRuns: fail,
        unknownRuns: unknownRuns.value(),
        runs: all,
        failedRows: failedRows.value(),
        totalCost: cost,
        totalLatency: latency,
        totalTokens: totalTokens.value(),
        passRate: all > 0 ? pass / all : null,
        failRate: all > 0 ? fail / all : null,
        // a quotient, judged against a limit: float noise (0.35000000000000003) must not break it
        avgLatency: all > 0 ? (0,_format_js__WEBPACK_IMPORTED_MODULE_0__/* .tidy */ .DZ)(latency / all) : null
    };
}
function finite(total, figure) {
    if (!Number.isFinite(total))
        throw new TotalsError(figure, PAST_MAX);
    return total;
}
/**
 * Refuses totals that are not exact (built elsewhere than by totals): the gate never passes on a
 * rounded or infinite figure.
 */
function checkTotals(metrics) {
    const counts = [
        'passRuns',
        'failRuns',
        'unknownRuns',
        'runs',
        'failedRows',
        'totalTokens'
    ];
    for (const figure of counts) {
        if (!Number.isSafeInteger(metrics[figure]))
            throw new TotalsError(figure, PAST_SAFE);
    }
    for (const figure of ['totalCost', 'totalLatency'])
        finite(metrics[figure], figure);
}
/**
 * A sum of numbers as their decimal texts add up, so that 0.1 + 0.2 is 0.3 without rounding any
 * digit away (adding doubles would give 0.30000000000000004; rounding that would cut real digits).
 */
class DecimalSum {
    /** the sum times 10^scale */
    scaled = 0n;
    scale = 0;
    add(value) {
        const text = (0,_format_js__WEBPACK_IMPORTED_MODULE_0__/* .plainDecimal */ .mr)(value);
        const negative = text.startsWith('-');
        const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
        if (fraction.length > this.scale) {
            this.scaled *= 10n ** BigInt(fraction.length - this.scale);
            this.scale = fraction.length;
        }
        const digits = BigInt(whole + fraction.padEnd(this.scale, '0'));
        this.scaled += negative ? -digits : digits;
    }
    /** The nearest double to the exact sum. */
    value() {
        const negative = this.scaled < 0n;
        const digits = (negative ? -this.scaled : this.scaled).toString().padStart(this.scale + 1, '0');
        const point = digits.length - this.scale;
        return Number(`${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point) || '0'}`);
    }
}


/***/ }),

/***/ 3481:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   S4: () => (/* binding */ judge),
/* harmony export */   UR: () => (/* binding */ emptyPolicy)
/* harmony export */ });
/* unused harmony exports DEFAULT_ALLOW_STATUS, hasRules */
/* harmony import */ var _checks_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(550);
/* harmony import */ var _metrics_js__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(8346);
/* harmony import */ var _format_js__WEBPACK_IMPORTED_MODULE_2__ = __nccwpck_require__(6264);



const DEFAULT_ALLOW_STATUS = ['completed'];
/** The policy when none is given: no rules, so the gate is skipped and the run only reports. */
function emptyPolicy() {
    return { limits: {}, onEmpty: 'fail', scope: 'latest' };
}
/** Whether the policy sets anything to judge by; without rules the gate is skipped. */
function hasRules(policy) {
    return Object.keys(policy.limits).length > 0 || policy.allowStatus !== undefined;
}
/** Applies the policy to the judged evaluations and their totals. */
function judge(judged, metrics, policy, context = {}) {
    // a wait that ran out did not get what the step waited for: that is a failure, not a report
    if (!hasRules(policy) && !context.waitTimedOut)
        return { gate: 'skipped', broken: [], checks: [] };
    (0,_metrics_js__WEBPACK_IMPORTED_MODULE_1__/* .checkTotals */ .GA)(metrics);
    if (judged.length === 0) {
        const message = policy.onEmpty === 'pass'
            ? 'no evaluations to judge, and on-empty is pass'
            : 'no evaluations to judge (on-empty: fail); check the filters, or set on-empty: pass';
        const ok = policy.onEmpty === 'pass';
        const check = { rule: 'on-empty', ok, figure: '0 evaluations', limit: policy.onEmpty, message };
        return ok
            ? { gate: 'passed', broken: [], checks: [check] }
            : { gate: 'failed', broken: [{ rule: 'on-empty', message }], checks: [check] };
    }
    const broken = [];
    const { limits } = policy;
    const atMost = (rule, figure, value, show = _format_js__WEBPACK_IMPORTED_MODULE_2__/* .plainDecimal */ .mr) => {
        const limit = limits[rule];
        if (limit !== undefined && value > limit) {
            broken.push({ rule, message: `${figure} ${show(value)} > ${rule} ${show(limit)}` });
        }
    };
    atMost('max-fail-runs', 'fail-runs', metrics.failRuns);
    atMost('max-unknown-runs', 'unknown-runs', metrics.unknownRuns);
    atMost('max-failed-rows', 'failed-rows', metrics.failedRows);
    atMost('max-tokens', 'tokens', metrics.totalTokens);
    atMost('max-cost', 'cost', metrics.totalCost);
    rateRule(broken, 'max-fail-rate', 'fail-rate', metrics.failRate, limits['max-fail-rate'], '>');
    rateRule(broken, 'min-pass-rate', 'pass-rate', metrics.passRate, limits['min-pass-rate'], '<');
    if (limits['max-avg-latency'] !== undefined) {
        if (metrics.avgLatency === null) {
            broken.push(noRuns('max-avg-latency', 'avg-latency'));
        }
        else
            atMost('max-avg-latency', 'avg-latency', metrics.avgLatency, ms => `${(0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .plainDecimal */ .mr)(ms)} ms`);
    }
    passRateDrop(broken, judged, limits['max-pass-rate-drop'], context.baselines);
    const allowed = policy.allowStatus ?? DEFAULT_ALLOW_STATUS;
    const outside = judged.filter(evaluation => !allowed.includes(evaluation.status));
    if (outside.length > 0) {
        const waited = context.waitedMs === undefined ? '' : ` after waiting ${(0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatDuration */ .a3)(context.waitedMs)}`;
        const listed = outside
            .slice(0, 5)
            .map(e => ['queued', 'running', 'cancelling'].includes(e.status)
            ? `${e.runId} is still ${e.status} (${Math.round(e.progress.percent)}%)${waited}`
            : `${e.runId} is ${e.status}`)
            .join(', ');
        const more = outside.length > 5 ? ` and ${outside.length - 5} more` : '';
        broken.push({
            rule: 'allow-status',
            message: `${(0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .plural */ .LS)(outside.length, 'judged evaluation')} not in allow-status [${allowed.join(', ')}]: ${listed}${more}${unfinishedHint(policy, outside, context)}`
        });
    }
    const checks = (0,_checks_js__WEBPACK_IMPORTED_MODULE_0__/* .ruleChecks */ .M)({
        judged,
        metrics,
        limits: { ...limits },
        allowed,
        baselines: context.baselines,
        broken: new Map(broken.map(b => [b.rule, b.message]))
    });
    return { gate: broken.length > 0 ? 'failed' : 'passed', broken, checks };
}
/**
 * What to do when the judged evaluations are still in flight and allow-status is the default: the
 * newest evaluation of a prompt is often the one still running, so say how to judge the newest
 * finished one, or how to wait for this one.
 */
function unfinishedHint(policy, outside, context) {
    if (policy.allowStatus !== undefined)
        return '';
    if (!outside.some(e => e.status === 'queued' || e.status === 'running'))
        return '';
    const wait = context.waitedMs === undefined
        ? 'to wait for this one, set wait (e.g. wait: 30m)'
        : 'to give it more time, set a longer wait';
    return `. To judge the newest finished evaluation instead, set status: completed; ${wait}`;
}
function passRate(evaluation) {
    const { passRuns, failRuns, unknownRuns } = evaluation.metrics;
    const runs = passRuns + failRuns + unknownRuns;
    return runs > 0 ? passRuns / runs : null;
}
/** Each judged evaluation against its own baseline; the worst drop is named. */
function passRateDrop(broken, judged, limit, baselines) {
    if (limit === undefined || !baselines)
        return;
    const drops = judged
        .flatMap(evaluation => {
        const baseline = baselines.get(evaluation.runId);
        const now = passRate(evaluation);
        const before = baseline ? passRate(baseline) : null;
        if (!baseline || now === null || before === null)
            return [];
        return [{ evaluation, baseline, now, before, drop: (0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .tidy */ .DZ)(before - now) }];
    })
        .filter(({ drop }) => drop > limit)
        .sort((a, b) => b.drop - a.drop);
    const worst = drops[0];
    if (!worst)
        return;
    const more = drops.length > 1 ? ` (and ${drops.length - 1} more)` : '';
    const [change, allowed] = pointsAgainst(-worst.drop, -limit);
    broken.push({
        rule: 'max-pass-rate-drop',
        message: `pass rate ${change} vs baseline, beyond max-pass-rate-drop ${allowed}: ${worst.evaluation.runId} ${showRate(worst.now)} vs baseline ${worst.baseline.runId} ${showRate(worst.before)}${more}`
    });
}
function rateRule(broken, rule, figure, rate, limit, breaksWhen) {
    if (limit === undefined)
        return;
    if (rate === null) {
        broken.push(noRuns(rule, figure));
        return;
    }
    if (breaksWhen === '>' ? rate > limit : rate < limit) {
        broken.push({
            rule,
            message: `${figure} ${showRate(rate, limit)} ${breaksWhen} ${rule} ${showRate(limit)}`
        });
    }
}
/** A rule that needs runs cannot be met by an evaluation set without any: fail closed. */
function noRuns(rule, figure) {
    return {
        rule,
        message: `${figure} cannot be computed: the judged evaluations have no runs (${rule})`
    };
}
/**
 * A change and its limit in points, with the decimals that tell them apart (a drop just past its
 * limit would otherwise read as equal to it).
 */
function pointsAgainst(delta, limit) {
    let digits = 1;
    while (digits < 6 && (0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatPointsDelta */ .BK)(delta, digits) === (0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatPointsDelta */ .BK)(limit, digits))
        digits += 1;
    return [(0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatPointsDelta */ .BK)(delta, digits), (0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatPointsDelta */ .BK)(limit, digits)];
}
/** A rate as a percentage; with full precision when rounding would make it look equal to the limit. */
function showRate(rate, limit) {
    const rounded = (0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatPercent */ .l9)(rate, 2);
    if (limit === undefined || rounded !== (0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .formatPercent */ .l9)(limit, 2))
        return rounded;
    return `${(0,_format_js__WEBPACK_IMPORTED_MODULE_2__/* .plainDecimal */ .mr)(Number((rate * 100).toPrecision(15)))}%`;
}


/***/ }),

/***/ 2613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 4434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 9896:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");

/***/ }),

/***/ 8611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 5692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 9278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 4589:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:assert");

/***/ }),

/***/ 6698:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:async_hooks");

/***/ }),

/***/ 4573:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:buffer");

/***/ }),

/***/ 7540:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:console");

/***/ }),

/***/ 7598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 3053:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:diagnostics_channel");

/***/ }),

/***/ 610:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:dns");

/***/ }),

/***/ 8474:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");

/***/ }),

/***/ 3024:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 7067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 2467:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http2");

/***/ }),

/***/ 7030:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 6760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 643:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:perf_hooks");

/***/ }),

/***/ 1708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:process");

/***/ }),

/***/ 1792:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:querystring");

/***/ }),

/***/ 7075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 7830:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/web");

/***/ }),

/***/ 1692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ }),

/***/ 3136:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");

/***/ }),

/***/ 7975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 3429:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util/types");

/***/ }),

/***/ 5919:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");

/***/ }),

/***/ 8522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 857:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");

/***/ }),

/***/ 932:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("process");

/***/ }),

/***/ 3193:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("string_decoder");

/***/ }),

/***/ 4756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 2018:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tty");

/***/ }),

/***/ 7016:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("url");

/***/ }),

/***/ 9023:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

/***/ }),

/***/ 3444:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("web-streams-polyfill/dist/ponyfill.es2018.js");

/***/ }),

/***/ 8167:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("worker_threads");

/***/ }),

/***/ 1204:
/***/ ((__unused_webpack_module, __unused_webpack_exports, __nccwpck_require__) => {

/* c8 ignore start */
// 64 KiB (same size chrome slice theirs blob into Uint8array's)
const POOL_SIZE = 65536

if (!globalThis.ReadableStream) {
  // `node:stream/web` got introduced in v16.5.0 as experimental
  // and it's preferred over the polyfilled version. So we also
  // suppress the warning that gets emitted by NodeJS for using it.
  try {
    const process = __nccwpck_require__(1708)
    const { emitWarning } = process
    try {
      process.emitWarning = () => {}
      Object.assign(globalThis, __nccwpck_require__(7830))
      process.emitWarning = emitWarning
    } catch (error) {
      process.emitWarning = emitWarning
      throw error
    }
  } catch (error) {
    // fallback to polyfill implementation
    Object.assign(globalThis, __nccwpck_require__(3444))
  }
}

try {
  // Don't use node: prefix for this, require+node: is not supported until node v14.14
  // Only `import()` can use prefix in 12.20 and later
  const { Blob } = __nccwpck_require__(181)
  if (Blob && !Blob.prototype.stream) {
    Blob.prototype.stream = function name (params) {
      let position = 0
      const blob = this

      return new ReadableStream({
        type: 'bytes',
        async pull (ctrl) {
          const chunk = blob.slice(position, Math.min(blob.size, position + POOL_SIZE))
          const buffer = await chunk.arrayBuffer()
          position += buffer.byteLength
          ctrl.enqueue(new Uint8Array(buffer))

          if (position === blob.size) {
            ctrl.close()
          }
        }
      })
    }
  }
} catch (error) {}
/* c8 ignore end */


/***/ }),

/***/ 4645:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   A: () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* unused harmony export File */
/* harmony import */ var _index_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(6327);


const _File = class File extends _index_js__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .A {
  #lastModified = 0
  #name = ''

  /**
   * @param {*[]} fileBits
   * @param {string} fileName
   * @param {{lastModified?: number, type?: string}} options
   */// @ts-ignore
  constructor (fileBits, fileName, options = {}) {
    if (arguments.length < 2) {
      throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`)
    }
    super(fileBits, options)

    if (options === null) options = {}

    // Simulate WebIDL type casting for NaN value in lastModified option.
    const lastModified = options.lastModified === undefined ? Date.now() : Number(options.lastModified)
    if (!Number.isNaN(lastModified)) {
      this.#lastModified = lastModified
    }

    this.#name = String(fileName)
  }

  get name () {
    return this.#name
  }

  get lastModified () {
    return this.#lastModified
  }

  get [Symbol.toStringTag] () {
    return 'File'
  }

  static [Symbol.hasInstance] (object) {
    return !!object && object instanceof _index_js__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .A &&
      /^(File)$/.test(object[Symbol.toStringTag])
  }
}

/** @type {typeof globalThis.File} */// @ts-ignore
const File = _File
/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = (File);


/***/ }),

/***/ 995:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   ZH: () => (/* reexport safe */ _file_js__WEBPACK_IMPORTED_MODULE_3__.A)
/* harmony export */ });
/* unused harmony exports blobFrom, blobFromSync, fileFrom, fileFromSync */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(3024);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(6760);
/* harmony import */ var node_domexception__WEBPACK_IMPORTED_MODULE_2__ = __nccwpck_require__(7666);
/* harmony import */ var _file_js__WEBPACK_IMPORTED_MODULE_3__ = __nccwpck_require__(4645);
/* harmony import */ var _index_js__WEBPACK_IMPORTED_MODULE_4__ = __nccwpck_require__(6327);







const { stat } = node_fs__WEBPACK_IMPORTED_MODULE_0__.promises

/**
 * @param {string} path filepath on the disk
 * @param {string} [type] mimetype to use
 */
const blobFromSync = (path, type) => fromBlob(statSync(path), path, type)

/**
 * @param {string} path filepath on the disk
 * @param {string} [type] mimetype to use
 * @returns {Promise<Blob>}
 */
const blobFrom = (path, type) => stat(path).then(stat => fromBlob(stat, path, type))

/**
 * @param {string} path filepath on the disk
 * @param {string} [type] mimetype to use
 * @returns {Promise<File>}
 */
const fileFrom = (path, type) => stat(path).then(stat => fromFile(stat, path, type))

/**
 * @param {string} path filepath on the disk
 * @param {string} [type] mimetype to use
 */
const fileFromSync = (path, type) => fromFile(statSync(path), path, type)

// @ts-ignore
const fromBlob = (stat, path, type = '') => new Blob([new BlobDataItem({
  path,
  size: stat.size,
  lastModified: stat.mtimeMs,
  start: 0
})], { type })

// @ts-ignore
const fromFile = (stat, path, type = '') => new File([new BlobDataItem({
  path,
  size: stat.size,
  lastModified: stat.mtimeMs,
  start: 0
})], basename(path), { type, lastModified: stat.mtimeMs })

/**
 * This is a blob backed up by a file on the disk
 * with minium requirement. Its wrapped around a Blob as a blobPart
 * so you have no direct access to this.
 *
 * @private
 */
class BlobDataItem {
  #path
  #start

  constructor (options) {
    this.#path = options.path
    this.#start = options.start
    this.size = options.size
    this.lastModified = options.lastModified
  }

  /**
   * Slicing arguments is first validated and formatted
   * to not be out of range by Blob.prototype.slice
   */
  slice (start, end) {
    return new BlobDataItem({
      path: this.#path,
      lastModified: this.lastModified,
      size: end - start,
      start: this.#start + start
    })
  }

  async * stream () {
    const { mtimeMs } = await stat(this.#path)
    if (mtimeMs > this.lastModified) {
      throw new node_domexception__WEBPACK_IMPORTED_MODULE_2__('The requested file could not be read, typically due to permission problems that have occurred after a reference to a file was acquired.', 'NotReadableError')
    }
    yield * (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.createReadStream)(this.#path, {
      start: this.#start,
      end: this.#start + this.size - 1
    })
  }

  get [Symbol.toStringTag] () {
    return 'Blob'
  }
}

/* unused harmony default export */ var __WEBPACK_DEFAULT_EXPORT__ = ((/* unused pure expression or super */ null && (blobFromSync)));



/***/ }),

/***/ 6327:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   A: () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* unused harmony export Blob */
/* harmony import */ var _streams_cjs__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(1204);
/*! fetch-blob. MIT License. Jimmy Wärting <https://jimmy.warting.se/opensource> */

// TODO (jimmywarting): in the feature use conditional loading with top level await (requires 14.x)
// Node has recently added whatwg stream into core



// 64 KiB (same size chrome slice theirs blob into Uint8array's)
const POOL_SIZE = 65536

/** @param {(Blob | Uint8Array)[]} parts */
async function * toIterator (parts, clone = true) {
  for (const part of parts) {
    if ('stream' in part) {
      yield * (/** @type {AsyncIterableIterator<Uint8Array>} */ (part.stream()))
    } else if (ArrayBuffer.isView(part)) {
      if (clone) {
        let position = part.byteOffset
        const end = part.byteOffset + part.byteLength
        while (position !== end) {
          const size = Math.min(end - position, POOL_SIZE)
          const chunk = part.buffer.slice(position, position + size)
          position += chunk.byteLength
          yield new Uint8Array(chunk)
        }
      } else {
        yield part
      }
    /* c8 ignore next 10 */
    } else {
      // For blobs that have arrayBuffer but no stream method (nodes buffer.Blob)
      let position = 0, b = (/** @type {Blob} */ (part))
      while (position !== b.size) {
        const chunk = b.slice(position, Math.min(b.size, position + POOL_SIZE))
        const buffer = await chunk.arrayBuffer()
        position += buffer.byteLength
        yield new Uint8Array(buffer)
      }
    }
  }
}

const _Blob = class Blob {
  /** @type {Array.<(Blob|Uint8Array)>} */
  #parts = []
  #type = ''
  #size = 0
  #endings = 'transparent'

  /**
   * The Blob() constructor returns a new Blob object. The content
   * of the blob consists of the concatenation of the values given
   * in the parameter array.
   *
   * @param {*} blobParts
   * @param {{ type?: string, endings?: string }} [options]
   */
  constructor (blobParts = [], options = {}) {
    if (typeof blobParts !== 'object' || blobParts === null) {
      throw new TypeError('Failed to construct \'Blob\': The provided value cannot be converted to a sequence.')
    }

    if (typeof blobParts[Symbol.iterator] !== 'function') {
      throw new TypeError('Failed to construct \'Blob\': The object must have a callable @@iterator property.')
    }

    if (typeof options !== 'object' && typeof options !== 'function') {
      throw new TypeError('Failed to construct \'Blob\': parameter 2 cannot convert to dictionary.')
    }

    if (options === null) options = {}

    const encoder = new TextEncoder()
    for (const element of blobParts) {
      let part
      if (ArrayBuffer.isView(element)) {
        part = new Uint8Array(element.buffer.slice(element.byteOffset, element.byteOffset + element.byteLength))
      } else if (element instanceof ArrayBuffer) {
        part = new Uint8Array(element.slice(0))
      } else if (element instanceof Blob) {
        part = element
      } else {
        part = encoder.encode(`${element}`)
      }

      this.#size += ArrayBuffer.isView(part) ? part.byteLength : part.size
      this.#parts.push(part)
    }

    this.#endings = `${options.endings === undefined ? 'transparent' : options.endings}`
    const type = options.type === undefined ? '' : String(options.type)
    this.#type = /^[\x20-\x7E]*$/.test(type) ? type : ''
  }

  /**
   * The Blob interface's size property returns the
   * size of the Blob in bytes.
   */
  get size () {
    return this.#size
  }

  /**
   * The type property of a Blob object returns the MIME type of the file.
   */
  get type () {
    return this.#type
  }

  /**
   * The text() method in the Blob interface returns a Promise
   * that resolves with a string containing the contents of
   * the blob, interpreted as UTF-8.
   *
   * @return {Promise<string>}
   */
  async text () {
    // More optimized than using this.arrayBuffer()
    // that requires twice as much ram
    const decoder = new TextDecoder()
    let str = ''
    for await (const part of toIterator(this.#parts, false)) {
      str += decoder.decode(part, { stream: true })
    }
    // Remaining
    str += decoder.decode()
    return str
  }

  /**
   * The arrayBuffer() method in the Blob interface returns a
   * Promise that resolves with the contents of the blob as
   * binary data contained in an ArrayBuffer.
   *
   * @return {Promise<ArrayBuffer>}
   */
  async arrayBuffer () {
    // Easier way... Just a unnecessary overhead
    // const view = new Uint8Array(this.size);
    // await this.stream().getReader({mode: 'byob'}).read(view);
    // return view.buffer;

    const data = new Uint8Array(this.size)
    let offset = 0
    for await (const chunk of toIterator(this.#parts, false)) {
      data.set(chunk, offset)
      offset += chunk.length
    }

    return data.buffer
  }

  stream () {
    const it = toIterator(this.#parts, true)

    return new globalThis.ReadableStream({
      // @ts-ignore
      type: 'bytes',
      async pull (ctrl) {
        const chunk = await it.next()
        chunk.done ? ctrl.close() : ctrl.enqueue(chunk.value)
      },

      async cancel () {
        await it.return()
      }
    })
  }

  /**
   * The Blob interface's slice() method creates and returns a
   * new Blob object which contains data from a subset of the
   * blob on which it's called.
   *
   * @param {number} [start]
   * @param {number} [end]
   * @param {string} [type]
   */
  slice (start = 0, end = this.size, type = '') {
    const { size } = this

    let relativeStart = start < 0 ? Math.max(size + start, 0) : Math.min(start, size)
    let relativeEnd = end < 0 ? Math.max(size + end, 0) : Math.min(end, size)

    const span = Math.max(relativeEnd - relativeStart, 0)
    const parts = this.#parts
    const blobParts = []
    let added = 0

    for (const part of parts) {
      // don't add the overflow to new blobParts
      if (added >= span) {
        break
      }

      const size = ArrayBuffer.isView(part) ? part.byteLength : part.size
      if (relativeStart && size <= relativeStart) {
        // Skip the beginning and change the relative
        // start & end position as we skip the unwanted parts
        relativeStart -= size
        relativeEnd -= size
      } else {
        let chunk
        if (ArrayBuffer.isView(part)) {
          chunk = part.subarray(relativeStart, Math.min(size, relativeEnd))
          added += chunk.byteLength
        } else {
          chunk = part.slice(relativeStart, Math.min(size, relativeEnd))
          added += chunk.size
        }
        relativeEnd -= size
        blobParts.push(chunk)
        relativeStart = 0 // All next sequential parts should start at 0
      }
    }

    const blob = new Blob([], { type: String(type).toLowerCase() })
    blob.#size = span
    blob.#parts = blobParts

    return blob
  }

  get [Symbol.toStringTag] () {
    return 'Blob'
  }

  static [Symbol.hasInstance] (object) {
    return (
      object &&
      typeof object === 'object' &&
      typeof object.constructor === 'function' &&
      (
        typeof object.stream === 'function' ||
        typeof object.arrayBuffer === 'function'
      ) &&
      /^(Blob|File)$/.test(object[Symbol.toStringTag])
    )
  }
}

Object.defineProperties(_Blob.prototype, {
  size: { enumerable: true },
  type: { enumerable: true },
  slice: { enumerable: true }
})

/** @type {typeof globalThis.Blob} */
const Blob = _Blob
/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = (Blob);


/***/ }),

/***/ 3018:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   $n: () => (/* binding */ formDataToBlob),
/* harmony export */   fS: () => (/* binding */ FormData)
/* harmony export */ });
/* unused harmony export File */
/* harmony import */ var fetch_blob__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(6327);
/* harmony import */ var fetch_blob_file_js__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(4645);
/*! formdata-polyfill. MIT License. Jimmy Wärting <https://jimmy.warting.se/opensource> */




var {toStringTag:t,iterator:i,hasInstance:h}=Symbol,
r=Math.random,
m='append,set,get,getAll,delete,keys,values,entries,forEach,constructor'.split(','),
f=(a,b,c)=>(a+='',/^(Blob|File)$/.test(b && b[t])?[(c=c!==void 0?c+'':b[t]=='File'?b.name:'blob',a),b.name!==c||b[t]=='blob'?new fetch_blob_file_js__WEBPACK_IMPORTED_MODULE_1__/* ["default"] */ .A([b],c,b):b]:[a,b+'']),
e=(c,f)=>(f?c:c.replace(/\r?\n|\r/g,'\r\n')).replace(/\n/g,'%0A').replace(/\r/g,'%0D').replace(/"/g,'%22'),
x=(n, a, e)=>{if(a.length<e){throw new TypeError(`Failed to execute '${n}' on 'FormData': ${e} arguments required, but only ${a.length} present.`)}}

const File = (/* unused pure expression or super */ null && (F))

/** @type {typeof globalThis.FormData} */
const FormData = class FormData {
#d=[];
constructor(...a){if(a.length)throw new TypeError(`Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.`)}
get [t]() {return 'FormData'}
[i](){return this.entries()}
static [h](o) {return o&&typeof o==='object'&&o[t]==='FormData'&&!m.some(m=>typeof o[m]!='function')}
append(...a){x('append',arguments,2);this.#d.push(f(...a))}
delete(a){x('delete',arguments,1);a+='';this.#d=this.#d.filter(([b])=>b!==a)}
get(a){x('get',arguments,1);a+='';for(var b=this.#d,l=b.length,c=0;c<l;c++)if(b[c][0]===a)return b[c][1];return null}
getAll(a,b){x('getAll',arguments,1);b=[];a+='';this.#d.forEach(c=>c[0]===a&&b.push(c[1]));return b}
has(a){x('has',arguments,1);a+='';return this.#d.some(b=>b[0]===a)}
forEach(a,b){x('forEach',arguments,1);for(var [c,d]of this)a.call(b,d,c,this)}
set(...a){x('set',arguments,2);var b=[],c=!0;a=f(...a);this.#d.forEach(d=>{d[0]===a[0]?c&&(c=!b.push(a)):b.push(d)});c&&b.push(a);this.#d=b}
*entries(){yield*this.#d}
*keys(){for(var[a]of this)yield a}
*values(){for(var[,a]of this)yield a}}

/** @param {FormData} F */
function formDataToBlob (F,B=fetch_blob__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .A){
var b=`${r()}${r()}`.replace(/\./g, '').slice(-28).padStart(32, '-'),c=[],p=`--${b}\r\nContent-Disposition: form-data; name="`
F.forEach((v,n)=>typeof v=='string'
?c.push(p+e(n)+`"\r\n\r\n${v.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n')}\r\n`)
:c.push(p+e(n)+`"; filename="${e(v.name, 1)}"\r\nContent-Type: ${v.type||"application/octet-stream"}\r\n\r\n`, v, '\r\n'))
c.push(`--${b}--`)
return new B(c,{type:"multipart/form-data; boundary="+b})}


/***/ }),

/***/ 7934:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   BpQ: () => (/* binding */ minLength),
/* harmony export */   E2x: () => (/* binding */ finite),
/* harmony export */   FsL: () => (/* binding */ pipe),
/* harmony export */   Ikc: () => (/* binding */ object),
/* harmony export */   KCZ: () => (/* binding */ union),
/* harmony export */   KIO: () => (/* binding */ picklist),
/* harmony export */   L5J: () => (/* binding */ unknown),
/* harmony export */   Ru6: () => (/* binding */ maxLength),
/* harmony export */   Wwf: () => (/* binding */ minValue),
/* harmony export */   Y2b: () => (/* binding */ safeInteger),
/* harmony export */   YOg: () => (/* binding */ array),
/* harmony export */   YjP: () => (/* binding */ string),
/* harmony export */   _H3: () => (/* binding */ looseObject),
/* harmony export */   aig: () => (/* binding */ number),
/* harmony export */   cGV: () => (/* binding */ maxValue),
/* harmony export */   cl6: () => (/* binding */ nullish),
/* harmony export */   g1P: () => (/* binding */ record),
/* harmony export */   lqM: () => (/* binding */ optional),
/* harmony export */   pdi: () => (/* binding */ transform),
/* harmony export */   xLC: () => (/* binding */ safeParse),
/* harmony export */   z6Y: () => (/* binding */ check),
/* harmony export */   zMY: () => (/* binding */ boolean)
/* harmony export */ });
/* unused harmony exports BASE64_REGEX, BIC_REGEX, CUID2_REGEX, DECIMAL_REGEX, DIGITS_REGEX, DOMAIN_REGEX, EMAIL_REGEX, EMOJI_REGEX, HEXADECIMAL_REGEX, HEX_COLOR_REGEX, IMEI_REGEX, IPV4_REGEX, IPV6_REGEX, IP_REGEX, ISO_DATE_REGEX, ISO_DATE_TIME_REGEX, ISO_DATE_TIME_SECOND_REGEX, ISO_TIMESTAMP_REGEX, ISO_TIME_REGEX, ISO_TIME_SECOND_REGEX, ISO_WEEK_REGEX, ISRC_REGEX, JWS_COMPACT_REGEX, KSUID_REGEX, MAC48_REGEX, MAC64_REGEX, MAC_REGEX, NANO_ID_REGEX, OCTAL_REGEX, RFC_EMAIL_REGEX, SLUG_REGEX, ULID_REGEX, UUID_REGEX, ValiError, _addIssue, _cloneDataset, _formatCase, _getByteCount, _getCodePointCount, _getGraphemeCount, _getLastMetadata, _getWordCount, _isLuhnAlgo, _isSameValueZero, _isValidObjectKey, _isValueMatch, _joinExpects, _standardSchema, _stringify, any, args, argsAsync, arrayAsync, assert, awaitAsync, base64, bic, bigint, blob, brand, bytes, cache, cacheAsync, checkAsync, checkItems, checkItemsAsync, codePoints, config, creditCard, cuid2, custom, customAsync, date, decimal, deleteGlobalConfig, deleteGlobalMessage, deleteSchemaMessage, deleteSpecificMessage, description, digits, domain, email, emoji, empty, endsWith, entries, entriesFromList, entriesFromObjects, enum, enum_, everyItem, exactOptional, exactOptionalAsync, examples, excludes, fallback, fallbackAsync, file, filterItems, findItem, flatten, flavor, forward, forwardAsync, function, function_, getDefault, getDefaults, getDefaultsAsync, getDescription, getDotPath, getExamples, getFallback, getFallbacks, getFallbacksAsync, getGlobalConfig, getGlobalMessage, getMetadata, getSchemaMessage, getSpecificMessage, getTitle, graphemes, gtValue, guard, hash, hexColor, hexadecimal, imei, includes, instance, integer, intersect, intersectAsync, ip, ipv4, ipv6, is, isOfKind, isOfType, isValiError, isbn, isoDate, isoDateTime, isoDateTimeSecond, isoTime, isoTimeSecond, isoTimestamp, isoWeek, isrc, jwsCompact, keyof, ksuid, lazy, lazyAsync, length, literal, looseObjectAsync, looseTuple, looseTupleAsync, ltValue, mac, mac48, mac64, map, mapAsync, mapItems, maxBytes, maxCodePoints, maxEntries, maxGraphemes, maxSize, maxWords, message, metadata, mimeType, minBytes, minCodePoints, minEntries, minGraphemes, minSize, minWords, multipleOf, nan, nanoid, never, nonEmpty, nonNullable, nonNullableAsync, nonNullish, nonNullishAsync, nonOptional, nonOptionalAsync, normalize, notBytes, notCodePoints, notEntries, notGraphemes, notLength, notSize, notValue, notValues, notWords, null, null_, nullable, nullableAsync, nullishAsync, objectAsync, objectWithRest, objectWithRestAsync, octal, omit, optionalAsync, parse, parseAsync, parseBoolean, parseJson, parser, parserAsync, partial, partialAsync, partialCheck, partialCheckAsync, pick, pipeAsync, promise, rawCheck, rawCheckAsync, rawTransform, rawTransformAsync, readonly, recordAsync, reduceItems, regex, required, requiredAsync, returns, returnsAsync, rfcEmail, safeParseAsync, safeParser, safeParserAsync, set, setAsync, setGlobalConfig, setGlobalMessage, setSchemaMessage, setSpecificMessage, size, slug, someItem, sortItems, startsWith, strictObject, strictObjectAsync, strictTuple, strictTupleAsync, stringifyJson, summarize, symbol, title, toBigint, toBoolean, toCamelCase, toDate, toKebabCase, toLowerCase, toMaxValue, toMinValue, toNumber, toPascalCase, toSnakeCase, toString, toUpperCase, transformAsync, trim, trimEnd, trimStart, tuple, tupleAsync, tupleWithRest, tupleWithRestAsync, ulid, undefined, undefined_, undefinedable, undefinedableAsync, unionAsync, unwrap, url, uuid, value, values, variant, variantAsync, void, void_, words */
//#region src/storages/globalConfig/globalConfig.ts
let store$4;
const DEFAULT_CONFIG = {
	lang: void 0,
	message: void 0,
	abortEarly: void 0,
	abortPipeEarly: void 0
};
/**
* Sets the global configuration.
*
* @param config The configuration.
*/
function setGlobalConfig(config$1) {
	store$4 = {
		...store$4,
		...config$1
	};
}
/**
* Returns the global configuration.
*
* @param config The config to merge.
*
* @returns The configuration.
*/
/* @__NO_SIDE_EFFECTS__ */
function getGlobalConfig(config$1) {
	if (!config$1 && !store$4) return DEFAULT_CONFIG;
	return {
		lang: config$1?.lang ?? store$4?.lang,
		message: config$1?.message,
		abortEarly: config$1?.abortEarly ?? store$4?.abortEarly,
		abortPipeEarly: config$1?.abortPipeEarly ?? store$4?.abortPipeEarly
	};
}
/**
* Deletes the global configuration.
*/
function deleteGlobalConfig() {
	store$4 = void 0;
}

//#endregion
//#region src/storages/globalMessage/globalMessage.ts
let store$3;
/**
* Sets a global error message.
*
* @param message The error message.
* @param lang The language of the message.
*/
function setGlobalMessage(message$1, lang) {
	if (!store$3) store$3 = /* @__PURE__ */ new Map();
	store$3.set(lang, message$1);
}
/**
* Returns a global error message.
*
* @param lang The language of the message.
*
* @returns The error message.
*/
/* @__NO_SIDE_EFFECTS__ */
function getGlobalMessage(lang) {
	return store$3?.get(lang);
}
/**
* Deletes a global error message.
*
* @param lang The language of the message.
*/
function deleteGlobalMessage(lang) {
	store$3?.delete(lang);
}

//#endregion
//#region src/storages/schemaMessage/schemaMessage.ts
let store$2;
/**
* Sets a schema error message.
*
* @param message The error message.
* @param lang The language of the message.
*/
function setSchemaMessage(message$1, lang) {
	if (!store$2) store$2 = /* @__PURE__ */ new Map();
	store$2.set(lang, message$1);
}
/**
* Returns a schema error message.
*
* @param lang The language of the message.
*
* @returns The error message.
*/
/* @__NO_SIDE_EFFECTS__ */
function getSchemaMessage(lang) {
	return store$2?.get(lang);
}
/**
* Deletes a schema error message.
*
* @param lang The language of the message.
*/
function deleteSchemaMessage(lang) {
	store$2?.delete(lang);
}

//#endregion
//#region src/storages/specificMessage/specificMessage.ts
let store$1;
/**
* Sets a specific error message.
*
* @param reference The identifier reference.
* @param message The error message.
* @param lang The language of the message.
*/
function setSpecificMessage(reference, message$1, lang) {
	if (!store$1) store$1 = /* @__PURE__ */ new Map();
	if (!store$1.get(reference)) store$1.set(reference, /* @__PURE__ */ new Map());
	store$1.get(reference).set(lang, message$1);
}
/**
* Returns a specific error message.
*
* @param reference The identifier reference.
* @param lang The language of the message.
*
* @returns The error message.
*/
/* @__NO_SIDE_EFFECTS__ */
function getSpecificMessage(reference, lang) {
	return store$1?.get(reference)?.get(lang);
}
/**
* Deletes a specific error message.
*
* @param reference The identifier reference.
* @param lang The language of the message.
*/
function deleteSpecificMessage(reference, lang) {
	store$1?.get(reference)?.delete(lang);
}

//#endregion
//#region src/utils/_stringify/_stringify.ts
/**
* Stringifies an unknown input to a literal or type string.
*
* @param input The unknown input.
*
* @returns A literal or type string.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _stringify(input) {
	const type = typeof input;
	if (type === "string") return `"${input}"`;
	if (type === "number" || type === "bigint" || type === "boolean") return `${input}`;
	if (type === "object" || type === "function") return (input && Object.getPrototypeOf(input)?.constructor?.name) ?? "null";
	return type;
}

//#endregion
//#region src/utils/_addIssue/_addIssue.ts
/**
* Adds an issue to the dataset.
*
* @param context The issue context.
* @param label The issue label.
* @param dataset The input dataset.
* @param config The configuration.
* @param other The optional props.
*
* @internal
*/
function _addIssue(context, label, dataset, config$1, other) {
	const input = other && "input" in other ? other.input : dataset.value;
	const expected = other?.expected ?? context.expects ?? null;
	const received = other?.received ?? /* @__PURE__ */ _stringify(input);
	const issue = {
		kind: context.kind,
		type: context.type,
		input,
		expected,
		received,
		message: `Invalid ${label}: ${expected ? `Expected ${expected} but r` : "R"}eceived ${received}`,
		requirement: context.requirement,
		path: other?.path,
		issues: other?.issues,
		lang: config$1.lang,
		abortEarly: config$1.abortEarly,
		abortPipeEarly: config$1.abortPipeEarly
	};
	const isSchema = context.kind === "schema";
	const message$1 = other?.message ?? context.message ?? /* @__PURE__ */ getSpecificMessage(context.reference, issue.lang) ?? (isSchema ? /* @__PURE__ */ getSchemaMessage(issue.lang) : null) ?? config$1.message ?? /* @__PURE__ */ getGlobalMessage(issue.lang);
	if (message$1 !== void 0) issue.message = typeof message$1 === "function" ? message$1(issue) : message$1;
	if (isSchema) dataset.typed = false;
	if (dataset.issues) dataset.issues.push(issue);
	else dataset.issues = [issue];
}

//#endregion
//#region src/utils/_cloneDataset/_cloneDataset.ts
/**
* Creates a shallow copy of a dataset.
*
* Hint: The `value` is copied by reference, but the `issues` array, its issues
* and their `path` arrays are cloned to avoid reusing mutable dataset state
* across multiple runs. Mutating a returned object or array value can
* therefore affect later cache hits that reuse the same cached output.
*
* @param dataset The output dataset.
*
* @returns The copied output dataset.
*/
/* @__NO_SIDE_EFFECTS__ */
function _cloneDataset(dataset) {
	return {
		typed: dataset.typed,
		value: dataset.value,
		issues: dataset.issues?.map((issue) => ({
			...issue,
			path: issue.path && [...issue.path]
		}))
	};
}

//#endregion
//#region src/utils/_formatCase/_formatCase.ts
/**
* Splits a string into lowercase words and rejoins them with the given
* separator and capitalization rules.
*
* Words are separated by `_`, `-` and ASCII whitespace, as well as by case
* and acronym boundaries. Whether the first or subsequent words are
* capitalized is controlled by `capFirst` and `capRest`.
*
* Hint: Implemented in a single pass that emits directly to the result
* string to avoid an intermediate `string[]` allocation. ASCII chars are
* classified via char codes to skip `.toLowerCase()` and `.toUpperCase()`
* method calls in the common case.
*
* Hint: Digits are treated as a separate character class, so `item2Name`
* yields `item2` and `name` rather than `item`, `2` and `name`.
*
* @param input The input string.
* @param separator The string inserted between words.
* @param capFirst Whether to capitalize the first word.
* @param capRest Whether to capitalize subsequent words.
*
* @returns The formatted string.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _formatCase(input, separator, capFirst, capRest) {
	let result = "";
	let firstWord = true;
	let start = 0;
	let prev = 0;
	let prevPrev = 0;
	const flush = (end) => {
		if (end > start) {
			let word = input.slice(start, end).toLowerCase();
			if (firstWord ? capFirst : capRest) {
				const firstCode = word.charCodeAt(0);
				if (firstCode >= 97 && firstCode <= 122) word = String.fromCharCode(firstCode - 32) + word.slice(1);
				else {
					const charLen = firstCode >= 55296 && firstCode <= 56319 ? 2 : 1;
					word = word.slice(0, charLen).toUpperCase() + word.slice(charLen);
				}
			}
			result += firstWord ? word : separator + word;
			firstWord = false;
		}
	};
	for (let index = 0; index < input.length; index++) {
		const code = input.charCodeAt(index);
		let type;
		if (code === 32 || code === 9 || code === 10 || code === 11 || code === 12 || code === 13 || code === 45 || code === 95) {
			flush(index);
			start = index + 1;
			type = 0;
		} else if (code < 128) type = code >= 65 && code <= 90 ? 1 : code >= 97 && code <= 122 ? 2 : 3;
		else {
			const char = input[index];
			const charLower = char.toLowerCase();
			type = charLower === char.toUpperCase() ? 3 : char === charLower ? 2 : 1;
		}
		if (type === 1 && (prev === 2 || prev === 3) && index > start) {
			flush(index);
			start = index;
		} else if (type === 2 && prev === 1 && prevPrev === 1 && index - 1 > start) {
			flush(index - 1);
			start = index - 1;
		}
		prevPrev = prev;
		prev = type;
	}
	flush(input.length);
	return result;
}

//#endregion
//#region src/utils/_getByteCount/_getByteCount.ts
let textEncoder;
/**
* Returns the byte count of the input.
*
* @param input The input to be measured.
*
* @returns The byte count.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _getByteCount(input) {
	if (!textEncoder) textEncoder = new TextEncoder();
	return textEncoder.encode(input).length;
}

//#endregion
//#region src/utils/_getCodePointCount/_getCodePointCount.ts
/**
* Returns the code point count of the input.
*
* @param input The input to be measured.
*
* @returns The code point count.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _getCodePointCount(input) {
	let count = input.length;
	const lengthMinus1 = input.length - 1;
	for (let i = 0; i < lengthMinus1;) if (input.codePointAt(i) <= 65535) i++;
	else {
		i += 2;
		count--;
	}
	return count;
}

//#endregion
//#region src/utils/_getGraphemeCount/_getGraphemeCount.ts
let segmenter;
/**
* Returns the grapheme count of the input.
*
* @param input The input to be measured.
*
* @returns The grapheme count.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _getGraphemeCount(input) {
	if (!segmenter) segmenter = new Intl.Segmenter();
	const segments = segmenter.segment(input);
	let count = 0;
	for (const _ of segments) count++;
	return count;
}

//#endregion
//#region src/utils/_getLastMetadata/_getLastMetadata.ts
/**
* Returns the last top-level value of a given metadata type from a schema
* using a breadth-first search that starts with the last item in the pipeline.
*
* @param schema The schema to search.
* @param type The metadata type.
*
* @returns The value, if any.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _getLastMetadata(schema, type) {
	if ("pipe" in schema) {
		const nestedSchemas = [];
		for (let index = schema.pipe.length - 1; index >= 0; index--) {
			const item = schema.pipe[index];
			if (item.kind === "schema" && "pipe" in item) nestedSchemas.push(item);
			else if (item.kind === "metadata" && item.type === type) return item[type];
		}
		for (const nestedSchema of nestedSchemas) {
			const result = /* @__PURE__ */ _getLastMetadata(nestedSchema, type);
			if (result !== void 0) return result;
		}
	}
}

//#endregion
//#region src/utils/_getWordCount/_getWordCount.ts
let store;
/**
* Returns the word count of the input.
*
* @param locales The locales to be used.
* @param input The input to be measured.
*
* @returns The word count.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _getWordCount(locales, input) {
	if (!store) store = /* @__PURE__ */ new Map();
	const key = String(locales);
	let segmenter$1 = store.get(key);
	if (!segmenter$1) {
		segmenter$1 = new Intl.Segmenter(locales, { granularity: "word" });
		store.set(key, segmenter$1);
	}
	const segments = segmenter$1.segment(input);
	let count = 0;
	for (const segment of segments) if (segment.isWordLike) count++;
	return count;
}

//#endregion
//#region src/utils/_isLuhnAlgo/_isLuhnAlgo.ts
/**
* Non-digit regex.
*/
const NON_DIGIT_REGEX = /\D/gu;
/**
* Checks whether a string with numbers corresponds to the luhn algorithm.
*
* @param input The input to be checked.
*
* @returns Whether input is valid.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _isLuhnAlgo(input) {
	const number$1 = input.replace(NON_DIGIT_REGEX, "");
	let length$1 = number$1.length;
	let bit = 1;
	let sum = 0;
	while (length$1) {
		const value$1 = +number$1[--length$1];
		bit ^= 1;
		sum += bit ? [
			0,
			2,
			4,
			6,
			8,
			1,
			3,
			5,
			7,
			9
		][value$1] : value$1;
	}
	return sum % 10 === 0;
}

//#endregion
//#region src/utils/_isSameValueZero/_isSameValueZero.ts
/**
* Compares two values using the SameValueZero algorithm, which treats `NaN`
* as equal to itself unlike `===`.
*
* @param value1 The first value.
* @param value2 The second value.
*
* @returns Whether the values are equal.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _isSameValueZero(value1, value2) {
	return value1 === value2 || Number.isNaN(value1) && Number.isNaN(value2);
}

//#endregion
//#region src/utils/_isValidObjectKey/_isValidObjectKey.ts
/**
* Disallows inherited object properties and prevents object prototype
* pollution by disallowing certain keys.
*
* @param object The object to check.
* @param key The key to check.
*
* @returns Whether the key is allowed.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _isValidObjectKey(object$1, key) {
	return Object.prototype.hasOwnProperty.call(object$1, key) && key !== "__proto__" && key !== "prototype" && key !== "constructor";
}

//#endregion
//#region src/utils/_isValueMatch/_isValueMatch.ts
/**
* Checks whether a value matches a value action requirement.
*
* @param requirement The value action requirement.
* @param value The value to check.
*
* @returns Whether the value matches the requirement.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _isValueMatch(requirement, value$1) {
	return Number.isNaN(requirement) && Number.isNaN(value$1) || requirement <= value$1 && requirement >= value$1;
}

//#endregion
//#region src/utils/_joinExpects/_joinExpects.ts
/**
* Joins multiple `expects` values with the given separator.
*
* @param values The `expects` values.
* @param separator The separator.
*
* @returns The joined `expects` property.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _joinExpects(values$1, separator) {
	const list = [...new Set(values$1)];
	if (list.length > 1) return `(${list.join(` ${separator} `)})`;
	return list[0] ?? "never";
}

//#endregion
//#region src/utils/_standardSchema/_standardSchema.ts
/**
* Eagerly creates and attaches the Standard Schema properties of a schema.
*
* Hint: The contextual `this` type includes the standard properties that are
* attached before the schema is returned.
*
* @param schema The schema to attach standard properties to.
*
* @returns The schema with standard properties attached.
*
* @internal
*/
function _standardSchema(schema) {
	schema["~standard"] = {
		version: 1,
		vendor: "valibot",
		validate: (value$1) => schema["~run"]({ value: value$1 }, /* @__PURE__ */ getGlobalConfig())
	};
	return schema;
}

//#endregion
//#region src/utils/entriesFromList/entriesFromList.ts
/**
* Creates an object entries definition from a list of keys and a schema.
*
* @param list A list of keys.
* @param schema The schema of the keys.
*
* @returns The object entries.
*/
/* @__NO_SIDE_EFFECTS__ */
function entriesFromList(list, schema) {
	const entries$1 = {};
	for (const key of list) entries$1[key] = schema;
	return entries$1;
}

//#endregion
//#region src/utils/entriesFromObjects/entriesFromObjects.ts
/* @__NO_SIDE_EFFECTS__ */
function entriesFromObjects(schemas) {
	const entries$1 = {};
	for (const schema of schemas) Object.assign(entries$1, schema.entries);
	return entries$1;
}

//#endregion
//#region src/utils/getDotPath/getDotPath.ts
/* @__NO_SIDE_EFFECTS__ */
function getDotPath(issue) {
	if (issue.path) {
		let key = "";
		for (const item of issue.path) if (typeof item.key === "string" || typeof item.key === "number") if (key) key += `.${item.key}`;
		else key += item.key;
		else return null;
		return key;
	}
	return null;
}

//#endregion
//#region src/utils/isOfKind/isOfKind.ts
/**
* A generic type guard to check the kind of an object.
*
* @param kind The kind to check for.
* @param object The object to check.
*
* @returns Whether it matches.
*/
/* @__NO_SIDE_EFFECTS__ */
function isOfKind(kind, object$1) {
	return object$1.kind === kind;
}

//#endregion
//#region src/utils/isOfType/isOfType.ts
/**
* A generic type guard to check the type of an object.
*
* @param type The type to check for.
* @param object The object to check.
*
* @returns Whether it matches.
*/
/* @__NO_SIDE_EFFECTS__ */
function isOfType(type, object$1) {
	return object$1.type === type;
}

//#endregion
//#region src/utils/ValiError/ValiError.ts
/**
* A Valibot error with useful information.
*/
var ValiError = class extends Error {
	/**
	* Creates a Valibot error with useful information.
	*
	* @param issues The error issues.
	*/
	constructor(issues) {
		super(issues[0].message);
		this.name = "ValiError";
		this.issues = issues;
	}
};

//#endregion
//#region src/utils/isValiError/isValiError.ts
/**
* A type guard to check if an error is a ValiError.
*
* @param error The error to check.
*
* @returns Whether its a ValiError.
*/
/* @__NO_SIDE_EFFECTS__ */
function isValiError(error) {
	return error instanceof ValiError;
}

//#endregion
//#region src/actions/args/args.ts
/* @__NO_SIDE_EFFECTS__ */
function args(schema) {
	return {
		kind: "transformation",
		type: "args",
		reference: args,
		async: false,
		schema,
		"~run"(dataset, config$1) {
			const func = dataset.value;
			dataset.value = (...args_) => {
				const argsDataset = this.schema["~run"]({ value: args_ }, config$1);
				if (argsDataset.issues) throw new ValiError(argsDataset.issues);
				return func(...argsDataset.value);
			};
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/args/argsAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function argsAsync(schema) {
	return {
		kind: "transformation",
		type: "args",
		reference: argsAsync,
		async: false,
		schema,
		"~run"(dataset, config$1) {
			const func = dataset.value;
			dataset.value = async (...args$1) => {
				const argsDataset = await schema["~run"]({ value: args$1 }, config$1);
				if (argsDataset.issues) throw new ValiError(argsDataset.issues);
				return func(...argsDataset.value);
			};
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/await/awaitAsync.ts
/**
* Creates an await transformation action.
*
* @returns An await action.
*/
/* @__NO_SIDE_EFFECTS__ */
function awaitAsync() {
	return {
		kind: "transformation",
		type: "await",
		reference: awaitAsync,
		async: true,
		async "~run"(dataset) {
			dataset.value = await dataset.value;
			return dataset;
		}
	};
}

//#endregion
//#region src/regex.ts
/**
* [Base64](https://en.wikipedia.org/wiki/Base64) regex.
*/
const BASE64_REGEX = /^(?:[\da-z+/]{4})*(?:[\da-z+/]{2}==|[\da-z+/]{3}=)?$/iu;
/**
* [BIC](https://en.wikipedia.org/wiki/ISO_9362) regex.
*/
const BIC_REGEX = /^[A-Z]{6}(?!00)[\dA-Z]{2}(?:[\dA-Z]{3})?$/u;
/**
* [Cuid2](https://github.com/paralleldrive/cuid2) regex.
*/
const CUID2_REGEX = /^[a-z][\da-z]*$/u;
/**
* [Decimal](https://en.wikipedia.org/wiki/Decimal) regex.
*/
const DECIMAL_REGEX = /^[+-]?(?:\d*\.)?\d+$/u;
/**
* [Digits](https://en.wikipedia.org/wiki/Numerical_digit) regex.
*/
const DIGITS_REGEX = /^\d+$/u;
/**
* [Domain name](https://en.wikipedia.org/wiki/Domain_name) regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
* ASCII-only validation. Internationalized domain names (IDNs) are not
* supported, including Punycode-encoded labels.
*/
const DOMAIN_REGEX = /^(?=.{1,253}$)(?:(?![Xx][Nn]--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/u;
/**
* [Email address](https://en.wikipedia.org/wiki/Email_address) regex.
*
* Hint: We decided against the `i` flag to avoid matching non-ASCII characters.
*/
const EMAIL_REGEX = /^[\w+-]+(?:\.[\w+-]+)*@[\da-zA-Z]+(?:[.-][\da-zA-Z]+)*\.[a-zA-Z]{2,}$/u;
/**
* Emoji regex from [emoji-regex-xs](https://github.com/slevithan/emoji-regex-xs) v1.0.0 (MIT license).
*
* Hint: We decided against the newer `/^\p{RGI_Emoji}+$/v` regex because it is
* not supported in older runtimes and does not match all emoji.
*/
const EMOJI_REGEX = /^(?:[\u{1F1E6}-\u{1F1FF}]{2}|\u{1F3F4}[\u{E0061}-\u{E007A}]{2}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{1,3}\u{E007F}|(?:\p{Emoji}\uFE0F\u20E3?|\p{Emoji_Modifier_Base}\p{Emoji_Modifier}?|(?![\p{Emoji_Modifier_Base}\u{1F1E6}-\u{1F1FF}])\p{Emoji_Presentation})(?:\u200D(?:\p{Emoji}\uFE0F\u20E3?|\p{Emoji_Modifier_Base}\p{Emoji_Modifier}?|(?![\p{Emoji_Modifier_Base}\u{1F1E6}-\u{1F1FF}])\p{Emoji_Presentation}))*)+$/u;
/**
* [Hexadecimal](https://en.wikipedia.org/wiki/Hexadecimal) regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
*/
const HEXADECIMAL_REGEX = /^(?:0[hx])?[\da-fA-F]+$/u;
/**
* [Hex color](https://en.wikipedia.org/wiki/Web_colors#Hex_triplet) regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
*/
const HEX_COLOR_REGEX = /^#(?:[\da-fA-F]{3,4}|[\da-fA-F]{6}|[\da-fA-F]{8})$/u;
/**
* [IMEI](https://en.wikipedia.org/wiki/International_Mobile_Equipment_Identity) regex.
*/
const IMEI_REGEX = /^\d{15}$|^\d{2}-\d{6}-\d{6}-\d$/u;
/**
* [IPv4](https://en.wikipedia.org/wiki/IPv4) regex.
*/
const IPV4_REGEX = /^(?:(?:[1-9]|1\d|2[0-4])?\d|25[0-5])(?:\.(?:(?:[1-9]|1\d|2[0-4])?\d|25[0-5])){3}$/u;
/**
* [IPv6](https://en.wikipedia.org/wiki/IPv6) regex.
*/
const IPV6_REGEX = /^(?:(?:[\da-f]{1,4}:){7}[\da-f]{1,4}|(?:[\da-f]{1,4}:){1,7}:|(?:[\da-f]{1,4}:){1,6}:[\da-f]{1,4}|(?:[\da-f]{1,4}:){1,5}(?::[\da-f]{1,4}){1,2}|(?:[\da-f]{1,4}:){1,4}(?::[\da-f]{1,4}){1,3}|(?:[\da-f]{1,4}:){1,3}(?::[\da-f]{1,4}){1,4}|(?:[\da-f]{1,4}:){1,2}(?::[\da-f]{1,4}){1,5}|[\da-f]{1,4}:(?::[\da-f]{1,4}){1,6}|:(?:(?::[\da-f]{1,4}){1,7}|:)|fe80:(?::[\da-f]{0,4}){0,4}%[\da-z]+|::(?:f{4}(?::0{1,4})?:)?(?:(?:25[0-5]|(?:2[0-4]|1?\d)?\d)\.){3}(?:25[0-5]|(?:2[0-4]|1?\d)?\d)|(?:[\da-f]{1,4}:){1,4}:(?:(?:25[0-5]|(?:2[0-4]|1?\d)?\d)\.){3}(?:25[0-5]|(?:2[0-4]|1?\d)?\d))$/iu;
/**
* [IP](https://en.wikipedia.org/wiki/IP_address) regex.
*/
const IP_REGEX = /^(?:(?:[1-9]|1\d|2[0-4])?\d|25[0-5])(?:\.(?:(?:[1-9]|1\d|2[0-4])?\d|25[0-5])){3}$|^(?:(?:[\da-f]{1,4}:){7}[\da-f]{1,4}|(?:[\da-f]{1,4}:){1,7}:|(?:[\da-f]{1,4}:){1,6}:[\da-f]{1,4}|(?:[\da-f]{1,4}:){1,5}(?::[\da-f]{1,4}){1,2}|(?:[\da-f]{1,4}:){1,4}(?::[\da-f]{1,4}){1,3}|(?:[\da-f]{1,4}:){1,3}(?::[\da-f]{1,4}){1,4}|(?:[\da-f]{1,4}:){1,2}(?::[\da-f]{1,4}){1,5}|[\da-f]{1,4}:(?::[\da-f]{1,4}){1,6}|:(?:(?::[\da-f]{1,4}){1,7}|:)|fe80:(?::[\da-f]{0,4}){0,4}%[\da-z]+|::(?:f{4}(?::0{1,4})?:)?(?:(?:25[0-5]|(?:2[0-4]|1?\d)?\d)\.){3}(?:25[0-5]|(?:2[0-4]|1?\d)?\d)|(?:[\da-f]{1,4}:){1,4}:(?:(?:25[0-5]|(?:2[0-4]|1?\d)?\d)\.){3}(?:25[0-5]|(?:2[0-4]|1?\d)?\d))$/iu;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) date regex.
*/
const ISO_DATE_REGEX = /^\d{4}-(?:0[1-9]|1[0-2])-(?:[12]\d|0[1-9]|3[01])$/u;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) date-time regex.
*/
const ISO_DATE_TIME_REGEX = /^\d{4}-(?:0[1-9]|1[0-2])-(?:[12]\d|0[1-9]|3[01])[T ](?:0\d|1\d|2[0-3]):[0-5]\d$/u;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) date-time with seconds regex.
*/
const ISO_DATE_TIME_SECOND_REGEX = /^\d{4}-(?:0[1-9]|1[0-2])-(?:[12]\d|0[1-9]|3[01])[T ](?:0\d|1\d|2[0-3])(?::[0-5]\d){2}$/u;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) time regex.
*/
const ISO_TIME_REGEX = /^(?:0\d|1\d|2[0-3]):[0-5]\d$/u;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) time with seconds regex.
*/
const ISO_TIME_SECOND_REGEX = /^(?:0\d|1\d|2[0-3])(?::[0-5]\d){2}$/u;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) timestamp regex. Allows a
* space as a date/time separator and an optional space before the UTC offset.
*/
const ISO_TIMESTAMP_REGEX = /^\d{4}-(?:0[1-9]|1[0-2])-(?:[12]\d|0[1-9]|3[01])[T ](?:0\d|1\d|2[0-3])(?::[0-5]\d){2}(?:\.\d{1,9})?(?:Z| ?[+-](?:0\d|1\d|2[0-3])(?::?[0-5]\d)?)$/u;
/**
* [ISO 8601](https://en.wikipedia.org/wiki/ISO_8601) week regex.
*/
const ISO_WEEK_REGEX = /^\d{4}-W(?:0[1-9]|[1-4]\d|5[0-3])$/u;
/**
* [JWS compact serialization](https://datatracker.ietf.org/doc/html/rfc7515#section-3.1)
* regex.
*
* Hint: Empty payload and signature segments are allowed because the
* Base64URL-encoded representation of an empty octet sequence is an empty
* string.
*/
const JWS_COMPACT_REGEX = /^(?:[\w-]{2,3}|(?:[\w-]{4})+(?:[\w-]{2,3})?)\.(?:[\w-]{2,3}|(?:[\w-]{4})+(?:[\w-]{2,3})?)?\.(?:[\w-]{2,3}|(?:[\w-]{4})+(?:[\w-]{2,3})?)?$/u;
/**
* [ISRC](https://en.wikipedia.org/wiki/International_Standard_Recording_Code) regex.
*/
const ISRC_REGEX = /^(?:[A-Z]{2}[A-Z\d]{3}\d{7}|[A-Z]{2}-[A-Z\d]{3}-\d{2}-\d{5})$/u;
/**
* [KSUID](https://github.com/segmentio/ksuid) regex.
*/
const KSUID_REGEX = /^[a-zA-Z0-9]{27}$/u;
/**
* [MAC](https://en.wikipedia.org/wiki/MAC_address) 48 bit regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
*/
const MAC48_REGEX = /^(?:[\da-fA-F]{2}:){5}[\da-fA-F]{2}$|^(?:[\da-fA-F]{2}-){5}[\da-fA-F]{2}$|^(?:[\da-fA-F]{4}\.){2}[\da-fA-F]{4}$/u;
/**
* [MAC](https://en.wikipedia.org/wiki/MAC_address) 64 bit regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
*/
const MAC64_REGEX = /^(?:[\da-fA-F]{2}:){7}[\da-fA-F]{2}$|^(?:[\da-fA-F]{2}-){7}[\da-fA-F]{2}$|^(?:[\da-fA-F]{4}\.){3}[\da-fA-F]{4}$|^(?:[\da-fA-F]{4}:){3}[\da-fA-F]{4}$/u;
/**
* [MAC](https://en.wikipedia.org/wiki/MAC_address) regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
*/
const MAC_REGEX = /^(?:[\da-fA-F]{2}:){5}[\da-fA-F]{2}$|^(?:[\da-fA-F]{2}-){5}[\da-fA-F]{2}$|^(?:[\da-fA-F]{4}\.){2}[\da-fA-F]{4}$|^(?:[\da-fA-F]{2}:){7}[\da-fA-F]{2}$|^(?:[\da-fA-F]{2}-){7}[\da-fA-F]{2}$|^(?:[\da-fA-F]{4}\.){3}[\da-fA-F]{4}$|^(?:[\da-fA-F]{4}:){3}[\da-fA-F]{4}$/u;
/**
* [Nano ID](https://github.com/ai/nanoid) regex.
*/
const NANO_ID_REGEX = /^[\w-]+$/u;
/**
* [Octal](https://en.wikipedia.org/wiki/Octal) regex.
*/
const OCTAL_REGEX = /^(?:0o)?[0-7]+$/u;
/**
* [RFC 5322 email address](https://datatracker.ietf.org/doc/html/rfc5322#section-3.4.1) regex.
*
* Hint: This regex was taken from the [HTML Living Standard Specification](https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address) and does not perfectly represent RFC 5322.
*/
const RFC_EMAIL_REGEX = /^[a-zA-Z0-9.!#$%&'*+\/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/**
* [Slug](https://en.wikipedia.org/wiki/Clean_URL#Slug) regex.
*/
const SLUG_REGEX = /^[\da-z]+(?:[-_][\da-z]+)*$/u;
/**
* [ULID](https://github.com/ulid/spec) regex.
*
* Hint: We decided against the `i` flag for better JSON Schema compatibility.
* Hint: The first character is restricted to `[0-7]` because the 48-bit
* timestamp cannot exceed 2^48-1, making the maximum valid ULID
* `7ZZZZZZZZZZZZZZZZZZZZZZZZZ` in Crockford's Base32 encoding.
*/
const ULID_REGEX = /^[0-7][\da-hjkmnp-tv-zA-HJKMNP-TV-Z]{25}$/u;
/**
* [UUID](https://en.wikipedia.org/wiki/Universally_unique_identifier) regex.
*/
const UUID_REGEX = /^[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}$/iu;

//#endregion
//#region src/actions/base64/base64.ts
/* @__NO_SIDE_EFFECTS__ */
function base64(message$1) {
	return {
		kind: "validation",
		type: "base64",
		reference: base64,
		async: false,
		expects: null,
		requirement: BASE64_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "Base64", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/bic/bic.ts
/* @__NO_SIDE_EFFECTS__ */
function bic(message$1) {
	return {
		kind: "validation",
		type: "bic",
		reference: bic,
		async: false,
		expects: null,
		requirement: BIC_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "BIC", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/brand/brand.ts
/**
* Creates a brand transformation action.
*
* @param name The brand name.
*
* @returns A brand action.
*/
/* @__NO_SIDE_EFFECTS__ */
function brand(name) {
	return {
		kind: "transformation",
		type: "brand",
		reference: brand,
		async: false,
		name,
		"~run"(dataset) {
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/bytes/bytes.ts
/* @__NO_SIDE_EFFECTS__ */
function bytes(requirement, message$1) {
	return {
		kind: "validation",
		type: "bytes",
		reference: bytes,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const length$1 = /* @__PURE__ */ _getByteCount(dataset.value);
				if (length$1 !== this.requirement) _addIssue(this, "bytes", dataset, config$1, { received: `${length$1}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/check/check.ts
/* @__NO_SIDE_EFFECTS__ */
function check(requirement, message$1) {
	return {
		kind: "validation",
		type: "check",
		reference: check,
		async: false,
		expects: null,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "input", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/check/checkAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function checkAsync(requirement, message$1) {
	return {
		kind: "validation",
		type: "check",
		reference: checkAsync,
		async: true,
		expects: null,
		requirement,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (dataset.typed && !await this.requirement(dataset.value)) _addIssue(this, "input", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/checkItems/checkItems.ts
/* @__NO_SIDE_EFFECTS__ */
function checkItems(requirement, message$1) {
	return {
		kind: "validation",
		type: "check_items",
		reference: checkItems,
		async: false,
		expects: null,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) for (let index = 0; index < dataset.value.length; index++) {
				const item = dataset.value[index];
				if (!this.requirement(item, index, dataset.value)) _addIssue(this, "item", dataset, config$1, {
					input: item,
					path: [{
						type: "array",
						origin: "value",
						input: dataset.value,
						key: index,
						value: item
					}]
				});
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/checkItems/checkItemsAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function checkItemsAsync(requirement, message$1) {
	return {
		kind: "validation",
		type: "check_items",
		reference: checkItemsAsync,
		async: true,
		expects: null,
		requirement,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (dataset.typed) {
				const requirementResults = await Promise.all(dataset.value.map(this.requirement));
				for (let index = 0; index < dataset.value.length; index++) if (!requirementResults[index]) {
					const item = dataset.value[index];
					_addIssue(this, "item", dataset, config$1, {
						input: item,
						path: [{
							type: "array",
							origin: "value",
							input: dataset.value,
							key: index,
							value: item
						}]
					});
				}
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/codePoints/codePoints.ts
/* @__NO_SIDE_EFFECTS__ */
function codePoints(requirement, message$1) {
	return {
		kind: "validation",
		type: "code_points",
		reference: codePoints,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getCodePointCount(dataset.value);
				if (count !== this.requirement) _addIssue(this, "code points", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/creditCard/creditCard.ts
/**
* Credit card regex.
*/
const CREDIT_CARD_REGEX = /^(?:\d{13,19}|\d{4}(?: \d{3,6}){2,4}|\d{4}(?:-\d{3,6}){2,4})$/u;
/**
* Sanitize regex.
*/
const SANITIZE_REGEX = /[- ]/gu;
/**
* Provider regex list.
*/
const PROVIDER_REGEX_LIST = (/* unused pure expression or super */ null && ([
	/^3[47]\d{13}$/u,
	/^3(?:0[0-5]|[68]\d)\d{11,13}$/u,
	/^6(?:011|5\d{2})\d{12,15}$/u,
	/^(?:2131|1800|35\d{3})\d{11}$/u,
	/^(?:5[1-5]\d{2}|222\d|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}$/u,
	/^(?:6[27]\d{14,17}|81\d{14,17})$/u,
	/^4\d{12}(?:\d{3,6})?$/u
]));
/* @__NO_SIDE_EFFECTS__ */
function creditCard(message$1) {
	return {
		kind: "validation",
		type: "credit_card",
		reference: creditCard,
		async: false,
		expects: null,
		requirement(input) {
			let sanitized;
			return CREDIT_CARD_REGEX.test(input) && (sanitized = input.replace(SANITIZE_REGEX, "")) && PROVIDER_REGEX_LIST.some((regex$1) => regex$1.test(sanitized)) && /* @__PURE__ */ _isLuhnAlgo(sanitized);
		},
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "credit card", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/cuid2/cuid2.ts
/* @__NO_SIDE_EFFECTS__ */
function cuid2(message$1) {
	return {
		kind: "validation",
		type: "cuid2",
		reference: cuid2,
		async: false,
		expects: null,
		requirement: CUID2_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "Cuid2", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/decimal/decimal.ts
/* @__NO_SIDE_EFFECTS__ */
function decimal(message$1) {
	return {
		kind: "validation",
		type: "decimal",
		reference: decimal,
		async: false,
		expects: null,
		requirement: DECIMAL_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "decimal", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/description/description.ts
/**
* Creates a description metadata action.
*
* @param description_ The description text.
*
* @returns A description action.
*/
/* @__NO_SIDE_EFFECTS__ */
function description(description_) {
	return {
		kind: "metadata",
		type: "description",
		reference: description,
		description: description_
	};
}

//#endregion
//#region src/actions/digits/digits.ts
/* @__NO_SIDE_EFFECTS__ */
function digits(message$1) {
	return {
		kind: "validation",
		type: "digits",
		reference: digits,
		async: false,
		expects: null,
		requirement: DIGITS_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "digits", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/domain/domain.ts
/* @__NO_SIDE_EFFECTS__ */
function domain(message$1) {
	return {
		kind: "validation",
		type: "domain",
		reference: domain,
		expects: null,
		async: false,
		requirement: DOMAIN_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "domain", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/email/email.ts
/* @__NO_SIDE_EFFECTS__ */
function email(message$1) {
	return {
		kind: "validation",
		type: "email",
		reference: email,
		expects: null,
		async: false,
		requirement: EMAIL_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "email", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/emoji/emoji.ts
/* @__NO_SIDE_EFFECTS__ */
function emoji(message$1) {
	return {
		kind: "validation",
		type: "emoji",
		reference: emoji,
		async: false,
		expects: null,
		requirement: EMOJI_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "emoji", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/empty/empty.ts
/* @__NO_SIDE_EFFECTS__ */
function empty(message$1) {
	return {
		kind: "validation",
		type: "empty",
		reference: empty,
		async: false,
		expects: "0",
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.length > 0) _addIssue(this, "length", dataset, config$1, { received: `${dataset.value.length}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/endsWith/endsWith.ts
/* @__NO_SIDE_EFFECTS__ */
function endsWith(requirement, message$1) {
	return {
		kind: "validation",
		type: "ends_with",
		reference: endsWith,
		async: false,
		expects: `"${requirement}"`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !dataset.value.endsWith(this.requirement)) _addIssue(this, "end", dataset, config$1, { received: `"${dataset.value.slice(-this.requirement.length)}"` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/entries/entries.ts
/* @__NO_SIDE_EFFECTS__ */
function entries(requirement, message$1) {
	return {
		kind: "validation",
		type: "entries",
		reference: entries,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (!dataset.typed) return dataset;
			const count = Object.keys(dataset.value).length;
			if (dataset.typed && count !== this.requirement) _addIssue(this, "entries", dataset, config$1, { received: `${count}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/everyItem/everyItem.ts
/* @__NO_SIDE_EFFECTS__ */
function everyItem(requirement, message$1) {
	return {
		kind: "validation",
		type: "every_item",
		reference: everyItem,
		async: false,
		expects: null,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !dataset.value.every(this.requirement)) _addIssue(this, "item", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/examples/examples.ts
/**
* Creates an examples metadata action.
*
* @param examples_ The examples.
*
* @returns An examples action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function examples(examples_) {
	return {
		kind: "metadata",
		type: "examples",
		reference: examples,
		examples: examples_
	};
}

//#endregion
//#region src/actions/excludes/excludes.ts
/* @__NO_SIDE_EFFECTS__ */
function excludes(requirement, message$1) {
	const received = /* @__PURE__ */ _stringify(requirement);
	return {
		kind: "validation",
		type: "excludes",
		reference: excludes,
		async: false,
		expects: `!${received}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.includes(this.requirement)) _addIssue(this, "content", dataset, config$1, { received });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/filterItems/filterItems.ts
/* @__NO_SIDE_EFFECTS__ */
function filterItems(operation) {
	return {
		kind: "transformation",
		type: "filter_items",
		reference: filterItems,
		async: false,
		operation,
		"~run"(dataset) {
			dataset.value = dataset.value.filter(this.operation);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/findItem/findItem.ts
/* @__NO_SIDE_EFFECTS__ */
function findItem(operation) {
	return {
		kind: "transformation",
		type: "find_item",
		reference: findItem,
		async: false,
		operation,
		"~run"(dataset) {
			dataset.value = dataset.value.find(this.operation);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/finite/finite.ts
/* @__NO_SIDE_EFFECTS__ */
function finite(message$1) {
	return {
		kind: "validation",
		type: "finite",
		reference: finite,
		async: false,
		expects: null,
		requirement: Number.isFinite,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "finite", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/flavor/flavor.ts
/**
* Creates a flavor transformation action.
*
* @param name The flavor name.
*
* @returns A flavor action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function flavor(name) {
	return {
		kind: "transformation",
		type: "flavor",
		reference: flavor,
		async: false,
		name,
		"~run"(dataset) {
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/graphemes/graphemes.ts
/* @__NO_SIDE_EFFECTS__ */
function graphemes(requirement, message$1) {
	return {
		kind: "validation",
		type: "graphemes",
		reference: graphemes,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getGraphemeCount(dataset.value);
				if (count !== this.requirement) _addIssue(this, "graphemes", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/gtValue/gtValue.ts
/* @__NO_SIDE_EFFECTS__ */
function gtValue(requirement, message$1) {
	return {
		kind: "validation",
		type: "gt_value",
		reference: gtValue,
		async: false,
		expects: `>${requirement instanceof Date ? requirement.toJSON() : /* @__PURE__ */ _stringify(requirement)}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !(dataset.value > this.requirement)) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/guard/guard.ts
/* @__NO_SIDE_EFFECTS__ */
function guard(requirement, message$1) {
	return {
		kind: "transformation",
		type: "guard",
		reference: guard,
		async: false,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) {
				_addIssue(this, "input", dataset, config$1);
				dataset.typed = false;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/hash/hash.ts
/**
* Hash lengths object.
*/
const HASH_LENGTHS = {
	md4: 32,
	md5: 32,
	sha1: 40,
	sha256: 64,
	sha384: 96,
	sha512: 128,
	ripemd128: 32,
	ripemd160: 40,
	tiger128: 32,
	tiger160: 40,
	tiger192: 48,
	crc32: 8,
	crc32b: 8,
	adler32: 8
};
/* @__NO_SIDE_EFFECTS__ */
function hash(types, message$1) {
	return {
		kind: "validation",
		type: "hash",
		reference: hash,
		expects: null,
		async: false,
		requirement: RegExp(types.map((type) => `^[a-fA-F0-9]{${HASH_LENGTHS[type]}}$`).join("|"), "u"),
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "hash", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/hexadecimal/hexadecimal.ts
/* @__NO_SIDE_EFFECTS__ */
function hexadecimal(message$1) {
	return {
		kind: "validation",
		type: "hexadecimal",
		reference: hexadecimal,
		async: false,
		expects: null,
		requirement: HEXADECIMAL_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "hexadecimal", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/hexColor/hexColor.ts
/* @__NO_SIDE_EFFECTS__ */
function hexColor(message$1) {
	return {
		kind: "validation",
		type: "hex_color",
		reference: hexColor,
		async: false,
		expects: null,
		requirement: HEX_COLOR_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "hex color", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/imei/imei.ts
/* @__NO_SIDE_EFFECTS__ */
function imei(message$1) {
	return {
		kind: "validation",
		type: "imei",
		reference: imei,
		async: false,
		expects: null,
		requirement(input) {
			return IMEI_REGEX.test(input) && /* @__PURE__ */ _isLuhnAlgo(input);
		},
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "IMEI", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/includes/includes.ts
/* @__NO_SIDE_EFFECTS__ */
function includes(requirement, message$1) {
	const expects = /* @__PURE__ */ _stringify(requirement);
	return {
		kind: "validation",
		type: "includes",
		reference: includes,
		async: false,
		expects,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !dataset.value.includes(this.requirement)) _addIssue(this, "content", dataset, config$1, { received: `!${expects}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/integer/integer.ts
/* @__NO_SIDE_EFFECTS__ */
function integer(message$1) {
	return {
		kind: "validation",
		type: "integer",
		reference: integer,
		async: false,
		expects: null,
		requirement: Number.isInteger,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "integer", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/ip/ip.ts
/* @__NO_SIDE_EFFECTS__ */
function ip(message$1) {
	return {
		kind: "validation",
		type: "ip",
		reference: ip,
		async: false,
		expects: null,
		requirement: IP_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "IP", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/ipv4/ipv4.ts
/* @__NO_SIDE_EFFECTS__ */
function ipv4(message$1) {
	return {
		kind: "validation",
		type: "ipv4",
		reference: ipv4,
		async: false,
		expects: null,
		requirement: IPV4_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "IPv4", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/ipv6/ipv6.ts
/* @__NO_SIDE_EFFECTS__ */
function ipv6(message$1) {
	return {
		kind: "validation",
		type: "ipv6",
		reference: ipv6,
		async: false,
		expects: null,
		requirement: IPV6_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "IPv6", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isbn/utils/_isIsbn10.ts
/**
* [Validates an ISBN-10](https://en.wikipedia.org/wiki/ISBN#ISBN-10_check_digits).
*
* @param input The input value.
*
* @returns `true` if the input is a valid ISBN-10, `false` otherwise.
*
* @internal
*/
function _isIsbn10(input) {
	const digits$1 = input.split("").map((c) => c === "X" ? 10 : parseInt(c));
	let sum = 0;
	for (let i = 0; i < 10; i++) sum += digits$1[i] * (10 - i);
	return sum % 11 === 0;
}

//#endregion
//#region src/actions/isbn/utils/_isIsbn13.ts
/**
* [Validates an ISBN-13](https://en.wikipedia.org/wiki/ISBN#ISBN-13_check_digit_calculation).
*
* @param input The input value.
*
* @returns `true` if the input is a valid ISBN-13, `false` otherwise.
*
* @internal
*/
function _isIsbn13(input) {
	const digits$1 = input.split("").map((c) => parseInt(c));
	let sum = 0;
	for (let i = 0; i < 13; i++) sum += digits$1[i] * (i % 2 === 0 ? 1 : 3);
	return sum % 10 === 0;
}

//#endregion
//#region src/actions/isbn/isbn.ts
/**
* ISBN separator regex.
*/
const ISBN_SEPARATOR_REGEX = /[- ]/gu;
/**
* ISBN-10 detection regex.
*/
const ISBN_10_DETECTION_REGEX = /^\d{9}[\dX]$/u;
/**
* ISBN-13 detection regex.
*/
const ISBN_13_DETECTION_REGEX = /^\d{13}$/u;
/* @__NO_SIDE_EFFECTS__ */
function isbn(message$1) {
	return {
		kind: "validation",
		type: "isbn",
		reference: isbn,
		async: false,
		expects: null,
		requirement(input) {
			const replacedInput = input.replace(ISBN_SEPARATOR_REGEX, "");
			if (ISBN_10_DETECTION_REGEX.test(replacedInput)) return _isIsbn10(replacedInput);
			else if (ISBN_13_DETECTION_REGEX.test(replacedInput)) return _isIsbn13(replacedInput);
			return false;
		},
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "ISBN", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isrc/isrc.ts
/* @__NO_SIDE_EFFECTS__ */
function isrc(message$1) {
	return {
		kind: "validation",
		type: "isrc",
		reference: isrc,
		async: false,
		expects: null,
		requirement: ISRC_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "ISRC", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoDate/isoDate.ts
/* @__NO_SIDE_EFFECTS__ */
function isoDate(message$1) {
	return {
		kind: "validation",
		type: "iso_date",
		reference: isoDate,
		async: false,
		expects: null,
		requirement: ISO_DATE_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "date", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoDateTime/isoDateTime.ts
/* @__NO_SIDE_EFFECTS__ */
function isoDateTime(message$1) {
	return {
		kind: "validation",
		type: "iso_date_time",
		reference: isoDateTime,
		async: false,
		expects: null,
		requirement: ISO_DATE_TIME_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "date-time", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoDateTimeSecond/isoDateTimeSecond.ts
/* @__NO_SIDE_EFFECTS__ */
function isoDateTimeSecond(message$1) {
	return {
		kind: "validation",
		type: "iso_date_time_second",
		reference: isoDateTimeSecond,
		async: false,
		expects: null,
		requirement: ISO_DATE_TIME_SECOND_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "date-time-second", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoTime/isoTime.ts
/* @__NO_SIDE_EFFECTS__ */
function isoTime(message$1) {
	return {
		kind: "validation",
		type: "iso_time",
		reference: isoTime,
		async: false,
		expects: null,
		requirement: ISO_TIME_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "time", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoTimeSecond/isoTimeSecond.ts
/* @__NO_SIDE_EFFECTS__ */
function isoTimeSecond(message$1) {
	return {
		kind: "validation",
		type: "iso_time_second",
		reference: isoTimeSecond,
		async: false,
		expects: null,
		requirement: ISO_TIME_SECOND_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "time-second", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoTimestamp/isoTimestamp.ts
/* @__NO_SIDE_EFFECTS__ */
function isoTimestamp(message$1) {
	return {
		kind: "validation",
		type: "iso_timestamp",
		reference: isoTimestamp,
		async: false,
		expects: null,
		requirement: ISO_TIMESTAMP_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "timestamp", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/isoWeek/isoWeek.ts
/* @__NO_SIDE_EFFECTS__ */
function isoWeek(message$1) {
	return {
		kind: "validation",
		type: "iso_week",
		reference: isoWeek,
		async: false,
		expects: null,
		requirement: ISO_WEEK_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "week", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/jwsCompact/jwsCompact.ts
/* @__NO_SIDE_EFFECTS__ */
function jwsCompact(message$1) {
	return {
		kind: "validation",
		type: "jws_compact",
		reference: jwsCompact,
		async: false,
		expects: null,
		requirement: JWS_COMPACT_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "JWS compact", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/ksuid/ksuid.ts
/* @__NO_SIDE_EFFECTS__ */
function ksuid(message$1) {
	return {
		kind: "validation",
		type: "ksuid",
		reference: ksuid,
		async: false,
		expects: null,
		requirement: KSUID_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "KSUID", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/length/length.ts
/* @__NO_SIDE_EFFECTS__ */
function length(requirement, message$1) {
	return {
		kind: "validation",
		type: "length",
		reference: length,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.length !== this.requirement) _addIssue(this, "length", dataset, config$1, { received: `${dataset.value.length}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/ltValue/ltValue.ts
/* @__NO_SIDE_EFFECTS__ */
function ltValue(requirement, message$1) {
	return {
		kind: "validation",
		type: "lt_value",
		reference: ltValue,
		async: false,
		expects: `<${requirement instanceof Date ? requirement.toJSON() : /* @__PURE__ */ _stringify(requirement)}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !(dataset.value < this.requirement)) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/mac/mac.ts
/* @__NO_SIDE_EFFECTS__ */
function mac(message$1) {
	return {
		kind: "validation",
		type: "mac",
		reference: mac,
		async: false,
		expects: null,
		requirement: MAC_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "MAC", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/mac48/mac48.ts
/* @__NO_SIDE_EFFECTS__ */
function mac48(message$1) {
	return {
		kind: "validation",
		type: "mac48",
		reference: mac48,
		async: false,
		expects: null,
		requirement: MAC48_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "48-bit MAC", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/mac64/mac64.ts
/* @__NO_SIDE_EFFECTS__ */
function mac64(message$1) {
	return {
		kind: "validation",
		type: "mac64",
		reference: mac64,
		async: false,
		expects: null,
		requirement: MAC64_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "64-bit MAC", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/mapItems/mapItems.ts
/* @__NO_SIDE_EFFECTS__ */
function mapItems(operation) {
	return {
		kind: "transformation",
		type: "map_items",
		reference: mapItems,
		async: false,
		operation,
		"~run"(dataset) {
			dataset.value = dataset.value.map(this.operation);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxBytes/maxBytes.ts
/* @__NO_SIDE_EFFECTS__ */
function maxBytes(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_bytes",
		reference: maxBytes,
		async: false,
		expects: `<=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const length$1 = /* @__PURE__ */ _getByteCount(dataset.value);
				if (length$1 > this.requirement) _addIssue(this, "bytes", dataset, config$1, { received: `${length$1}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxCodePoints/maxCodePoints.ts
/* @__NO_SIDE_EFFECTS__ */
function maxCodePoints(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_code_points",
		reference: maxCodePoints,
		async: false,
		expects: `<=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getCodePointCount(dataset.value);
				if (count > this.requirement) _addIssue(this, "code points", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxEntries/maxEntries.ts
/* @__NO_SIDE_EFFECTS__ */
function maxEntries(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_entries",
		reference: maxEntries,
		async: false,
		expects: `<=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (!dataset.typed) return dataset;
			const count = Object.keys(dataset.value).length;
			if (dataset.typed && count > this.requirement) _addIssue(this, "entries", dataset, config$1, { received: `${count}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxGraphemes/maxGraphemes.ts
/* @__NO_SIDE_EFFECTS__ */
function maxGraphemes(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_graphemes",
		reference: maxGraphemes,
		async: false,
		expects: `<=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getGraphemeCount(dataset.value);
				if (count > this.requirement) _addIssue(this, "graphemes", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxLength/maxLength.ts
/* @__NO_SIDE_EFFECTS__ */
function maxLength(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_length",
		reference: maxLength,
		async: false,
		expects: `<=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.length > this.requirement) _addIssue(this, "length", dataset, config$1, { received: `${dataset.value.length}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxSize/maxSize.ts
/* @__NO_SIDE_EFFECTS__ */
function maxSize(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_size",
		reference: maxSize,
		async: false,
		expects: `<=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.size > this.requirement) _addIssue(this, "size", dataset, config$1, { received: `${dataset.value.size}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxValue/maxValue.ts
/* @__NO_SIDE_EFFECTS__ */
function maxValue(requirement, message$1) {
	return {
		kind: "validation",
		type: "max_value",
		reference: maxValue,
		async: false,
		expects: `<=${requirement instanceof Date ? requirement.toJSON() : /* @__PURE__ */ _stringify(requirement)}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !(dataset.value <= this.requirement)) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/maxWords/maxWords.ts
/* @__NO_SIDE_EFFECTS__ */
function maxWords(locales, requirement, message$1) {
	return {
		kind: "validation",
		type: "max_words",
		reference: maxWords,
		async: false,
		expects: `<=${requirement}`,
		locales,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getWordCount(this.locales, dataset.value);
				if (count > this.requirement) _addIssue(this, "words", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/metadata/metadata.ts
/**
* Creates a custom metadata action.
*
* @param metadata_ The metadata object.
*
* @returns A metadata action.
*/
/* @__NO_SIDE_EFFECTS__ */
function metadata(metadata_) {
	return {
		kind: "metadata",
		type: "metadata",
		reference: metadata,
		metadata: metadata_
	};
}

//#endregion
//#region src/actions/mimeType/mimeType.ts
/* @__NO_SIDE_EFFECTS__ */
function mimeType(requirement, message$1) {
	return {
		kind: "validation",
		type: "mime_type",
		reference: mimeType,
		async: false,
		expects: /* @__PURE__ */ _joinExpects(requirement.map((option) => `"${option}"`), "|"),
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.includes(dataset.value.type)) _addIssue(this, "MIME type", dataset, config$1, { received: `"${dataset.value.type}"` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minBytes/minBytes.ts
/* @__NO_SIDE_EFFECTS__ */
function minBytes(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_bytes",
		reference: minBytes,
		async: false,
		expects: `>=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const length$1 = /* @__PURE__ */ _getByteCount(dataset.value);
				if (length$1 < this.requirement) _addIssue(this, "bytes", dataset, config$1, { received: `${length$1}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minCodePoints/minCodePoints.ts
/* @__NO_SIDE_EFFECTS__ */
function minCodePoints(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_code_points",
		reference: minCodePoints,
		async: false,
		expects: `>=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getCodePointCount(dataset.value);
				if (count < this.requirement) _addIssue(this, "code points", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minEntries/minEntries.ts
/* @__NO_SIDE_EFFECTS__ */
function minEntries(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_entries",
		reference: minEntries,
		async: false,
		expects: `>=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (!dataset.typed) return dataset;
			const count = Object.keys(dataset.value).length;
			if (dataset.typed && count < this.requirement) _addIssue(this, "entries", dataset, config$1, { received: `${count}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minGraphemes/minGraphemes.ts
/* @__NO_SIDE_EFFECTS__ */
function minGraphemes(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_graphemes",
		reference: minGraphemes,
		async: false,
		expects: `>=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getGraphemeCount(dataset.value);
				if (count < this.requirement) _addIssue(this, "graphemes", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minLength/minLength.ts
/* @__NO_SIDE_EFFECTS__ */
function minLength(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_length",
		reference: minLength,
		async: false,
		expects: `>=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.length < this.requirement) _addIssue(this, "length", dataset, config$1, { received: `${dataset.value.length}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minSize/minSize.ts
/* @__NO_SIDE_EFFECTS__ */
function minSize(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_size",
		reference: minSize,
		async: false,
		expects: `>=${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.size < this.requirement) _addIssue(this, "size", dataset, config$1, { received: `${dataset.value.size}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minValue/minValue.ts
/* @__NO_SIDE_EFFECTS__ */
function minValue(requirement, message$1) {
	return {
		kind: "validation",
		type: "min_value",
		reference: minValue,
		async: false,
		expects: `>=${requirement instanceof Date ? requirement.toJSON() : /* @__PURE__ */ _stringify(requirement)}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !(dataset.value >= this.requirement)) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/minWords/minWords.ts
/* @__NO_SIDE_EFFECTS__ */
function minWords(locales, requirement, message$1) {
	return {
		kind: "validation",
		type: "min_words",
		reference: minWords,
		async: false,
		expects: `>=${requirement}`,
		locales,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getWordCount(this.locales, dataset.value);
				if (count < this.requirement) _addIssue(this, "words", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/multipleOf/multipleOf.ts
/* @__NO_SIDE_EFFECTS__ */
function multipleOf(requirement, message$1) {
	return {
		kind: "validation",
		type: "multiple_of",
		reference: multipleOf,
		async: false,
		expects: `%${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value % this.requirement != 0) _addIssue(this, "multiple", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/nanoid/nanoid.ts
/* @__NO_SIDE_EFFECTS__ */
function nanoid(message$1) {
	return {
		kind: "validation",
		type: "nanoid",
		reference: nanoid,
		async: false,
		expects: null,
		requirement: NANO_ID_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "Nano ID", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/nonEmpty/nonEmpty.ts
/* @__NO_SIDE_EFFECTS__ */
function nonEmpty(message$1) {
	return {
		kind: "validation",
		type: "non_empty",
		reference: nonEmpty,
		async: false,
		expects: "!0",
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.length === 0) _addIssue(this, "length", dataset, config$1, { received: "0" });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/normalize/normalize.ts
/* @__NO_SIDE_EFFECTS__ */
function normalize(form) {
	return {
		kind: "transformation",
		type: "normalize",
		reference: normalize,
		async: false,
		form,
		"~run"(dataset) {
			dataset.value = dataset.value.normalize(this.form);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notBytes/notBytes.ts
/* @__NO_SIDE_EFFECTS__ */
function notBytes(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_bytes",
		reference: notBytes,
		async: false,
		expects: `!${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const length$1 = /* @__PURE__ */ _getByteCount(dataset.value);
				if (length$1 === this.requirement) _addIssue(this, "bytes", dataset, config$1, { received: `${length$1}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notCodePoints/notCodePoints.ts
/* @__NO_SIDE_EFFECTS__ */
function notCodePoints(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_code_points",
		reference: notCodePoints,
		async: false,
		expects: `!${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getCodePointCount(dataset.value);
				if (count === this.requirement) _addIssue(this, "code points", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notEntries/notEntries.ts
/* @__NO_SIDE_EFFECTS__ */
function notEntries(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_entries",
		reference: notEntries,
		async: false,
		expects: `!${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (!dataset.typed) return dataset;
			const count = Object.keys(dataset.value).length;
			if (dataset.typed && count === this.requirement) _addIssue(this, "entries", dataset, config$1, { received: `${count}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notGraphemes/notGraphemes.ts
/* @__NO_SIDE_EFFECTS__ */
function notGraphemes(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_graphemes",
		reference: notGraphemes,
		async: false,
		expects: `!${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getGraphemeCount(dataset.value);
				if (count === this.requirement) _addIssue(this, "graphemes", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notLength/notLength.ts
/* @__NO_SIDE_EFFECTS__ */
function notLength(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_length",
		reference: notLength,
		async: false,
		expects: `!${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.length === this.requirement) _addIssue(this, "length", dataset, config$1, { received: `${dataset.value.length}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notSize/notSize.ts
/* @__NO_SIDE_EFFECTS__ */
function notSize(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_size",
		reference: notSize,
		async: false,
		expects: `!${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.size === this.requirement) _addIssue(this, "size", dataset, config$1, { received: `${dataset.value.size}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notValue/notValue.ts
/* @__NO_SIDE_EFFECTS__ */
function notValue(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_value",
		reference: notValue,
		async: false,
		expects: requirement instanceof Date ? `!${requirement.toJSON()}` : `!${/* @__PURE__ */ _stringify(requirement)}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && /* @__PURE__ */ _isValueMatch(this.requirement, dataset.value)) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notValues/notValues.ts
/* @__NO_SIDE_EFFECTS__ */
function notValues(requirement, message$1) {
	return {
		kind: "validation",
		type: "not_values",
		reference: notValues,
		async: false,
		expects: `!${/* @__PURE__ */ _joinExpects(requirement.map((value$1) => value$1 instanceof Date ? value$1.toJSON() : /* @__PURE__ */ _stringify(value$1)), "|")}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && this.requirement.some((requirement$1) => /* @__PURE__ */ _isValueMatch(requirement$1, dataset.value))) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/notWords/notWords.ts
/* @__NO_SIDE_EFFECTS__ */
function notWords(locales, requirement, message$1) {
	return {
		kind: "validation",
		type: "not_words",
		reference: notWords,
		async: false,
		expects: `!${requirement}`,
		locales,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getWordCount(this.locales, dataset.value);
				if (count === this.requirement) _addIssue(this, "words", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/octal/octal.ts
/* @__NO_SIDE_EFFECTS__ */
function octal(message$1) {
	return {
		kind: "validation",
		type: "octal",
		reference: octal,
		async: false,
		expects: null,
		requirement: OCTAL_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "octal", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/parseBoolean/parseBoolean.ts
const TRUTHY = (/* unused pure expression or super */ null && ([
	true,
	1,
	"true",
	"1",
	"yes",
	"y",
	"on",
	"enabled"
]));
const FALSY = (/* unused pure expression or super */ null && ([
	false,
	0,
	"false",
	"0",
	"no",
	"n",
	"off",
	"disabled"
]));
/* @__NO_SIDE_EFFECTS__ */
function parseBoolean(config$1, message$1) {
	const normalize$1 = (v) => typeof v === "string" ? v.toLowerCase() : v;
	const truthyRaw = config$1?.truthy ?? TRUTHY;
	const falsyRaw = config$1?.falsy ?? FALSY;
	const truthy = config$1?.truthy ? config$1.truthy.map(normalize$1) : TRUTHY;
	const falsy = config$1?.falsy ? config$1.falsy.map(normalize$1) : FALSY;
	return {
		kind: "transformation",
		type: "parse_boolean",
		reference: parseBoolean,
		expects: /* @__PURE__ */ _joinExpects([...truthyRaw, ...falsyRaw].map(_stringify), "|"),
		config: config$1,
		message: message$1,
		async: false,
		"~run"(dataset, config$2) {
			const input = normalize$1(dataset.value);
			if (truthy.includes(input)) dataset.value = true;
			else if (falsy.includes(input)) dataset.value = false;
			else {
				_addIssue(this, "boolean", dataset, config$2);
				dataset.typed = false;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/parseJson/parseJson.ts
/* @__NO_SIDE_EFFECTS__ */
function parseJson(config$1, message$1) {
	return {
		kind: "transformation",
		type: "parse_json",
		reference: parseJson,
		config: config$1,
		message: message$1,
		async: false,
		"~run"(dataset, config$2) {
			try {
				dataset.value = JSON.parse(dataset.value, this.config?.reviver);
			} catch (error) {
				if (error instanceof Error) {
					_addIssue(this, "JSON", dataset, config$2, { received: `"${error.message}"` });
					dataset.typed = false;
				} else throw error;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/partialCheck/utils/_isPartiallyTyped/_isPartiallyTyped.ts
/**
* Checks if a dataset is partially typed.
*
* @param dataset The dataset to check.
* @param paths The paths to check.
*
* @returns Whether it is partially typed.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _isPartiallyTyped(dataset, paths) {
	if (dataset.issues) for (const path of paths) for (const issue of dataset.issues) {
		let typed = false;
		const bound = Math.min(path.length, issue.path?.length ?? 0);
		for (let index = 0; index < bound; index++) if (path[index] !== issue.path[index].key && (path[index] !== "$" || issue.path[index].type !== "array")) {
			typed = true;
			break;
		}
		if (!typed) return false;
	}
	return true;
}

//#endregion
//#region src/actions/partialCheck/partialCheck.ts
/* @__NO_SIDE_EFFECTS__ */
function partialCheck(paths, requirement, message$1) {
	return {
		kind: "validation",
		type: "partial_check",
		reference: partialCheck,
		async: false,
		expects: null,
		paths,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if ((dataset.typed || /* @__PURE__ */ _isPartiallyTyped(dataset, paths)) && !this.requirement(dataset.value)) _addIssue(this, "input", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/partialCheck/partialCheckAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function partialCheckAsync(paths, requirement, message$1) {
	return {
		kind: "validation",
		type: "partial_check",
		reference: partialCheckAsync,
		async: true,
		expects: null,
		paths,
		requirement,
		message: message$1,
		async "~run"(dataset, config$1) {
			if ((dataset.typed || /* @__PURE__ */ _isPartiallyTyped(dataset, paths)) && !await this.requirement(dataset.value)) _addIssue(this, "input", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/rawCheck/rawCheck.ts
/**
* Creates a raw check validation action.
*
* @param action The validation action.
*
* @returns A raw check action.
*/
/* @__NO_SIDE_EFFECTS__ */
function rawCheck(action) {
	return {
		kind: "validation",
		type: "raw_check",
		reference: rawCheck,
		async: false,
		expects: null,
		"~run"(dataset, config$1) {
			action({
				dataset,
				config: config$1,
				addIssue: (info) => _addIssue(this, info?.label ?? "input", dataset, config$1, info)
			});
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/rawCheck/rawCheckAsync.ts
/**
* Creates a raw check validation action.
*
* @param action The validation action.
*
* @returns A raw check action.
*/
/* @__NO_SIDE_EFFECTS__ */
function rawCheckAsync(action) {
	return {
		kind: "validation",
		type: "raw_check",
		reference: rawCheckAsync,
		async: true,
		expects: null,
		async "~run"(dataset, config$1) {
			await action({
				dataset,
				config: config$1,
				addIssue: (info) => _addIssue(this, info?.label ?? "input", dataset, config$1, info)
			});
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/rawTransform/rawTransform.ts
/**
* Creates a raw transformation action.
*
* @param action The transformation action.
*
* @returns A raw transform action.
*/
/* @__NO_SIDE_EFFECTS__ */
function rawTransform(action) {
	return {
		kind: "transformation",
		type: "raw_transform",
		reference: rawTransform,
		async: false,
		"~run"(dataset, config$1) {
			const output = action({
				dataset,
				config: config$1,
				addIssue: (info) => _addIssue(this, info?.label ?? "input", dataset, config$1, info),
				NEVER: null
			});
			if (dataset.issues) dataset.typed = false;
			else dataset.value = output;
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/rawTransform/rawTransformAsync.ts
/**
* Creates a raw transformation action.
*
* @param action The transformation action.
*
* @returns A raw transform action.
*/
/* @__NO_SIDE_EFFECTS__ */
function rawTransformAsync(action) {
	return {
		kind: "transformation",
		type: "raw_transform",
		reference: rawTransformAsync,
		async: true,
		async "~run"(dataset, config$1) {
			const output = await action({
				dataset,
				config: config$1,
				addIssue: (info) => _addIssue(this, info?.label ?? "input", dataset, config$1, info),
				NEVER: null
			});
			if (dataset.issues) dataset.typed = false;
			else dataset.value = output;
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/readonly/readonly.ts
/* @__NO_SIDE_EFFECTS__ */
function readonly() {
	return {
		kind: "transformation",
		type: "readonly",
		reference: readonly,
		async: false,
		"~run"(dataset) {
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/reduceItems/reduceItems.ts
/* @__NO_SIDE_EFFECTS__ */
function reduceItems(operation, initial) {
	return {
		kind: "transformation",
		type: "reduce_items",
		reference: reduceItems,
		async: false,
		operation,
		initial,
		"~run"(dataset) {
			dataset.value = dataset.value.reduce(this.operation, this.initial);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/regex/regex.ts
/* @__NO_SIDE_EFFECTS__ */
function regex(requirement, message$1) {
	return {
		kind: "validation",
		type: "regex",
		reference: regex,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "format", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/returns/returns.ts
/* @__NO_SIDE_EFFECTS__ */
function returns(schema) {
	return {
		kind: "transformation",
		type: "returns",
		reference: returns,
		async: false,
		schema,
		"~run"(dataset, config$1) {
			const func = dataset.value;
			dataset.value = (...args_) => {
				const returnsDataset = this.schema["~run"]({ value: func(...args_) }, config$1);
				if (returnsDataset.issues) throw new ValiError(returnsDataset.issues);
				return returnsDataset.value;
			};
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/returns/returnsAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function returnsAsync(schema) {
	return {
		kind: "transformation",
		type: "returns",
		reference: returnsAsync,
		async: false,
		schema,
		"~run"(dataset, config$1) {
			const func = dataset.value;
			dataset.value = async (...args_) => {
				const returnsDataset = await this.schema["~run"]({ value: await func(...args_) }, config$1);
				if (returnsDataset.issues) throw new ValiError(returnsDataset.issues);
				return returnsDataset.value;
			};
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/rfcEmail/rfcEmail.ts
/* @__NO_SIDE_EFFECTS__ */
function rfcEmail(message$1) {
	return {
		kind: "validation",
		type: "rfc_email",
		reference: rfcEmail,
		expects: null,
		async: false,
		requirement: RFC_EMAIL_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "email", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/safeInteger/safeInteger.ts
/* @__NO_SIDE_EFFECTS__ */
function safeInteger(message$1) {
	return {
		kind: "validation",
		type: "safe_integer",
		reference: safeInteger,
		async: false,
		expects: null,
		requirement: Number.isSafeInteger,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "safe integer", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/size/size.ts
/* @__NO_SIDE_EFFECTS__ */
function size(requirement, message$1) {
	return {
		kind: "validation",
		type: "size",
		reference: size,
		async: false,
		expects: `${requirement}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && dataset.value.size !== this.requirement) _addIssue(this, "size", dataset, config$1, { received: `${dataset.value.size}` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/slug/slug.ts
/* @__NO_SIDE_EFFECTS__ */
function slug(message$1) {
	return {
		kind: "validation",
		type: "slug",
		reference: slug,
		async: false,
		expects: null,
		requirement: SLUG_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "slug", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/someItem/someItem.ts
/* @__NO_SIDE_EFFECTS__ */
function someItem(requirement, message$1) {
	return {
		kind: "validation",
		type: "some_item",
		reference: someItem,
		async: false,
		expects: null,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !dataset.value.some(this.requirement)) _addIssue(this, "item", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/sortItems/sortItems.ts
/* @__NO_SIDE_EFFECTS__ */
function sortItems(operation) {
	return {
		kind: "transformation",
		type: "sort_items",
		reference: sortItems,
		async: false,
		operation,
		"~run"(dataset) {
			dataset.value = dataset.value.sort(this.operation);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/startsWith/startsWith.ts
/* @__NO_SIDE_EFFECTS__ */
function startsWith(requirement, message$1) {
	return {
		kind: "validation",
		type: "starts_with",
		reference: startsWith,
		async: false,
		expects: `"${requirement}"`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !dataset.value.startsWith(this.requirement)) _addIssue(this, "start", dataset, config$1, { received: `"${dataset.value.slice(0, this.requirement.length)}"` });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/stringifyJson/stringifyJson.ts
/* @__NO_SIDE_EFFECTS__ */
function stringifyJson(config$1, message$1) {
	return {
		kind: "transformation",
		type: "stringify_json",
		reference: stringifyJson,
		message: message$1,
		config: config$1,
		async: false,
		"~run"(dataset, config$2) {
			try {
				const output = JSON.stringify(dataset.value, this.config?.replacer, this.config?.space);
				if (output === void 0) {
					_addIssue(this, "JSON", dataset, config$2);
					dataset.typed = false;
				} else dataset.value = output;
			} catch (error) {
				if (error instanceof Error) {
					_addIssue(this, "JSON", dataset, config$2, { received: `"${error.message}"` });
					dataset.typed = false;
				} else throw error;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/title/title.ts
/**
* Creates a title metadata action.
*
* @param title_ The title text.
*
* @returns A title action.
*/
/* @__NO_SIDE_EFFECTS__ */
function title(title_) {
	return {
		kind: "metadata",
		type: "title",
		reference: title,
		title: title_
	};
}

//#endregion
//#region src/actions/toBigint/toBigint.ts
/* @__NO_SIDE_EFFECTS__ */
function toBigint(message$1) {
	return {
		kind: "transformation",
		type: "to_bigint",
		reference: toBigint,
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			try {
				dataset.value = BigInt(dataset.value);
			} catch {
				_addIssue(this, "bigint", dataset, config$1);
				dataset.typed = false;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toBoolean/toBoolean.ts
/**
* Creates a to boolean transformation action.
*
* @returns A to boolean action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function toBoolean() {
	return {
		kind: "transformation",
		type: "to_boolean",
		reference: toBoolean,
		async: false,
		"~run"(dataset) {
			dataset.value = Boolean(dataset.value);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toCamelCase/toCamelCase.ts
/**
* Creates a to camel case transformation action.
*
* Words are separated by `_`, `-` and ASCII whitespace, as well as by case
* and acronym boundaries.
*
* Hint: Acronym runs are normalized to lowercase (e.g. `parseURLValue` →
* `parseUrlValue`) and digits stay attached to the preceding token (e.g.
* `item2Name` → `item2Name`).
*
* @returns A to camel case action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function toCamelCase() {
	return {
		kind: "transformation",
		type: "to_camel_case",
		reference: toCamelCase,
		async: false,
		"~run"(dataset) {
			dataset.value = /* @__PURE__ */ _formatCase(dataset.value, "", false, true);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toDate/toDate.ts
/* @__NO_SIDE_EFFECTS__ */
function toDate(message$1) {
	return {
		kind: "transformation",
		type: "to_date",
		reference: toDate,
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			try {
				dataset.value = new Date(dataset.value);
				if (isNaN(dataset.value)) {
					_addIssue(this, "date", dataset, config$1, { received: "\"Invalid Date\"" });
					dataset.typed = false;
				}
			} catch {
				_addIssue(this, "date", dataset, config$1);
				dataset.typed = false;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toKebabCase/toKebabCase.ts
/**
* Creates a to kebab case transformation action.
*
* Words are separated by `_`, `-` and ASCII whitespace, as well as by case
* and acronym boundaries.
*
* Hint: Acronym runs are normalized to lowercase (e.g. `parseURLValue` →
* `parse-url-value`) and digits stay attached to the preceding token (e.g.
* `item2Name` → `item2-name`).
*
* @returns A to kebab case action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function toKebabCase() {
	return {
		kind: "transformation",
		type: "to_kebab_case",
		reference: toKebabCase,
		async: false,
		"~run"(dataset) {
			dataset.value = /* @__PURE__ */ _formatCase(dataset.value, "-", false, false);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toLowerCase/toLowerCase.ts
/**
* Creates a to lower case transformation action.
*
* @returns A to lower case action.
*/
/* @__NO_SIDE_EFFECTS__ */
function toLowerCase() {
	return {
		kind: "transformation",
		type: "to_lower_case",
		reference: toLowerCase,
		async: false,
		"~run"(dataset) {
			dataset.value = dataset.value.toLowerCase();
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toMaxValue/toMaxValue.ts
/**
* Creates a to max value transformation action.
*
* @param requirement The maximum value.
*
* @returns A to max value action.
*/
/* @__NO_SIDE_EFFECTS__ */
function toMaxValue(requirement) {
	return {
		kind: "transformation",
		type: "to_max_value",
		reference: toMaxValue,
		async: false,
		requirement,
		"~run"(dataset) {
			dataset.value = dataset.value > this.requirement ? this.requirement : dataset.value;
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toMinValue/toMinValue.ts
/**
* Creates a to min value transformation action.
*
* @param requirement The minimum value.
*
* @returns A to min value action.
*/
/* @__NO_SIDE_EFFECTS__ */
function toMinValue(requirement) {
	return {
		kind: "transformation",
		type: "to_min_value",
		reference: toMinValue,
		async: false,
		requirement,
		"~run"(dataset) {
			dataset.value = dataset.value < this.requirement ? this.requirement : dataset.value;
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toNumber/toNumber.ts
/* @__NO_SIDE_EFFECTS__ */
function toNumber(message$1) {
	return {
		kind: "transformation",
		type: "to_number",
		reference: toNumber,
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			try {
				dataset.value = Number(dataset.value);
				if (isNaN(dataset.value)) {
					_addIssue(this, "number", dataset, config$1);
					dataset.typed = false;
				}
			} catch {
				_addIssue(this, "number", dataset, config$1);
				dataset.typed = false;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toPascalCase/toPascalCase.ts
/**
* Creates a to pascal case transformation action.
*
* Words are separated by `_`, `-` and ASCII whitespace, as well as by case
* and acronym boundaries.
*
* Hint: Acronym runs are normalized to lowercase (e.g. `parseURLValue` →
* `ParseUrlValue`) and digits stay attached to the preceding token (e.g.
* `item2Name` → `Item2Name`).
*
* @returns A to pascal case action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function toPascalCase() {
	return {
		kind: "transformation",
		type: "to_pascal_case",
		reference: toPascalCase,
		async: false,
		"~run"(dataset) {
			dataset.value = /* @__PURE__ */ _formatCase(dataset.value, "", true, true);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toSnakeCase/toSnakeCase.ts
/**
* Creates a to snake case transformation action.
*
* Words are separated by `_`, `-` and ASCII whitespace, as well as by case
* and acronym boundaries.
*
* Hint: Acronym runs are normalized to lowercase (e.g. `parseURLValue` →
* `parse_url_value`) and digits stay attached to the preceding token (e.g.
* `item2Name` → `item2_name`).
*
* @returns A to snake case action.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function toSnakeCase() {
	return {
		kind: "transformation",
		type: "to_snake_case",
		reference: toSnakeCase,
		async: false,
		"~run"(dataset) {
			dataset.value = /* @__PURE__ */ _formatCase(dataset.value, "_", false, false);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toString/toString.ts
/* @__NO_SIDE_EFFECTS__ */
function toString(message$1) {
	return {
		kind: "transformation",
		type: "to_string",
		reference: toString,
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			try {
				dataset.value = String(dataset.value);
			} catch {
				_addIssue(this, "string", dataset, config$1);
				dataset.typed = false;
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/toUpperCase/toUpperCase.ts
/**
* Creates a to upper case transformation action.
*
* @returns A to upper case action.
*/
/* @__NO_SIDE_EFFECTS__ */
function toUpperCase() {
	return {
		kind: "transformation",
		type: "to_upper_case",
		reference: toUpperCase,
		async: false,
		"~run"(dataset) {
			dataset.value = dataset.value.toUpperCase();
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/transform/transform.ts
/**
* Creates a custom transformation action.
*
* @param operation The transformation operation.
*
* @returns A transform action.
*/
/* @__NO_SIDE_EFFECTS__ */
function transform(operation) {
	return {
		kind: "transformation",
		type: "transform",
		reference: transform,
		async: false,
		operation,
		"~run"(dataset) {
			dataset.value = this.operation(dataset.value);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/transform/transformAsync.ts
/**
* Creates a custom transformation action.
*
* @param operation The transformation operation.
*
* @returns A transform action.
*/
/* @__NO_SIDE_EFFECTS__ */
function transformAsync(operation) {
	return {
		kind: "transformation",
		type: "transform",
		reference: transformAsync,
		async: true,
		operation,
		async "~run"(dataset) {
			dataset.value = await this.operation(dataset.value);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/trim/trim.ts
/**
* Creates a trim transformation action.
*
* @returns A trim action.
*/
/* @__NO_SIDE_EFFECTS__ */
function trim() {
	return {
		kind: "transformation",
		type: "trim",
		reference: trim,
		async: false,
		"~run"(dataset) {
			dataset.value = dataset.value.trim();
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/trimEnd/trimEnd.ts
/**
* Creates a trim end transformation action.
*
* @returns A trim end action.
*/
/* @__NO_SIDE_EFFECTS__ */
function trimEnd() {
	return {
		kind: "transformation",
		type: "trim_end",
		reference: trimEnd,
		async: false,
		"~run"(dataset) {
			dataset.value = dataset.value.trimEnd();
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/trimStart/trimStart.ts
/**
* Creates a trim start transformation action.
*
* @returns A trim start action.
*/
/* @__NO_SIDE_EFFECTS__ */
function trimStart() {
	return {
		kind: "transformation",
		type: "trim_start",
		reference: trimStart,
		async: false,
		"~run"(dataset) {
			dataset.value = dataset.value.trimStart();
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/ulid/ulid.ts
/* @__NO_SIDE_EFFECTS__ */
function ulid(message$1) {
	return {
		kind: "validation",
		type: "ulid",
		reference: ulid,
		async: false,
		expects: null,
		requirement: ULID_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "ULID", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/url/url.ts
/* @__NO_SIDE_EFFECTS__ */
function url(message$1) {
	return {
		kind: "validation",
		type: "url",
		reference: url,
		async: false,
		expects: null,
		requirement(input) {
			try {
				if (URL.canParse) return URL.canParse(input);
				new URL(input);
				return true;
			} catch {
				return false;
			}
		},
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement(dataset.value)) _addIssue(this, "URL", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/uuid/uuid.ts
/* @__NO_SIDE_EFFECTS__ */
function uuid(message$1) {
	return {
		kind: "validation",
		type: "uuid",
		reference: uuid,
		async: false,
		expects: null,
		requirement: UUID_REGEX,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.test(dataset.value)) _addIssue(this, "UUID", dataset, config$1);
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/value/value.ts
/* @__NO_SIDE_EFFECTS__ */
function value(requirement, message$1) {
	return {
		kind: "validation",
		type: "value",
		reference: value,
		async: false,
		expects: requirement instanceof Date ? requirement.toJSON() : /* @__PURE__ */ _stringify(requirement),
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !/* @__PURE__ */ _isValueMatch(this.requirement, dataset.value)) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/values/values.ts
/* @__NO_SIDE_EFFECTS__ */
function values(requirement, message$1) {
	return {
		kind: "validation",
		type: "values",
		reference: values,
		async: false,
		expects: `${/* @__PURE__ */ _joinExpects(requirement.map((value$1) => value$1 instanceof Date ? value$1.toJSON() : /* @__PURE__ */ _stringify(value$1)), "|")}`,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed && !this.requirement.some((requirement$1) => /* @__PURE__ */ _isValueMatch(requirement$1, dataset.value))) _addIssue(this, "value", dataset, config$1, { received: dataset.value instanceof Date ? dataset.value.toJSON() : /* @__PURE__ */ _stringify(dataset.value) });
			return dataset;
		}
	};
}

//#endregion
//#region src/actions/words/words.ts
/* @__NO_SIDE_EFFECTS__ */
function words(locales, requirement, message$1) {
	return {
		kind: "validation",
		type: "words",
		reference: words,
		async: false,
		expects: `${requirement}`,
		locales,
		requirement,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.typed) {
				const count = /* @__PURE__ */ _getWordCount(this.locales, dataset.value);
				if (count !== this.requirement) _addIssue(this, "words", dataset, config$1, { received: `${count}` });
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/const.ts
const ABORT_EARLY_CONFIG = { abortEarly: true };

//#endregion
//#region src/methods/assert/assert.ts
/**
* Checks if the input matches the schema. As this is an assertion function, it
* can be used as a type guard.
*
* @param schema The schema to be used.
* @param input The input to be tested.
*/
function assert(schema, input) {
	const issues = schema["~run"]({ value: input }, ABORT_EARLY_CONFIG).issues;
	if (issues) throw new ValiError(issues);
}

//#endregion
//#region src/methods/cache/_LruCache.ts
/**
* Efficient LRU cache using Map iteration order.
*/
var _LruCache = class {
	constructor(config$1) {
		this.refCount = 0;
		this.maxSize = config$1?.maxSize ?? 1e3;
		this.maxAge = config$1?.maxAge ?? Infinity;
		this.hasMaxAge = isFinite(this.maxAge);
	}
	/**
	* Stringifies an unknown input to a cache key component.
	*
	* @param input The unknown input.
	*
	* @returns A cache key component.
	*/
	stringify(input) {
		const type = typeof input;
		if (type === "string") return `"${input}"`;
		if (type === "number" || type === "boolean") return `${input}`;
		if (type === "bigint") return `${input}n`;
		if (type === "object" || type === "function") {
			if (input) {
				this.refIds ?? (this.refIds = /* @__PURE__ */ new WeakMap());
				let id = this.refIds.get(input);
				if (!id) {
					id = ++this.refCount;
					this.refIds.set(input, id);
				}
				return `#${id}`;
			}
			return "null";
		}
		return type;
	}
	/**
	* Creates a cache key from input and config.
	*
	* @param input The input value.
	* @param config The parse configuration.
	*
	* @returns The cache key.
	*/
	key(input, config$1 = {}) {
		return `${this.stringify(input)}|${this.stringify(config$1.lang)}|${this.stringify(config$1.message)}|${this.stringify(config$1.abortEarly)}|${this.stringify(config$1.abortPipeEarly)}`;
	}
	/**
	* Gets a value from the cache by key.
	*
	* @param key The cache key.
	*
	* @returns The cached value.
	*/
	get(key) {
		if (!this.store) return void 0;
		const entry = this.store.get(key);
		if (!entry) return void 0;
		if (this.hasMaxAge && Date.now() - entry[1] > this.maxAge) {
			this.store.delete(key);
			return;
		}
		this.store.delete(key);
		this.store.set(key, entry);
		return entry[0];
	}
	/**
	* Sets a value in the cache by key.
	*
	* @param key The cache key.
	* @param value The cached value.
	*/
	set(key, value$1) {
		this.store ?? (this.store = /* @__PURE__ */ new Map());
		this.store.delete(key);
		const timestamp = this.hasMaxAge ? Date.now() : 0;
		this.store.set(key, [value$1, timestamp]);
		if (this.store.size > this.maxSize) this.store.delete(this.store.keys().next().value);
	}
	/**
	* Clears all entries from the cache.
	*/
	clear() {
		this.store?.clear();
	}
};

//#endregion
//#region src/methods/cache/cache.ts
/* @__NO_SIDE_EFFECTS__ */
function cache(schema, config$1) {
	return _standardSchema({
		...schema,
		cacheConfig: config$1,
		cache: new _LruCache(config$1),
		"~run"(dataset, runConfig) {
			const key = this.cache.key(dataset.value, runConfig);
			let outputDataset = this.cache.get(key);
			if (!outputDataset) this.cache.set(key, outputDataset = schema["~run"](dataset, runConfig));
			return /* @__PURE__ */ _cloneDataset(outputDataset);
		}
	});
}

//#endregion
//#region src/methods/cache/cacheAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function cacheAsync(schema, config$1) {
	let activeRuns;
	return _standardSchema({
		...schema,
		async: true,
		cacheConfig: config$1,
		cache: new _LruCache(config$1),
		async "~run"(dataset, runConfig) {
			const key = this.cache.key(dataset.value, runConfig);
			const cached = this.cache.get(key);
			if (cached) return /* @__PURE__ */ _cloneDataset(cached);
			let promise$1 = activeRuns?.get(key);
			if (!promise$1) {
				activeRuns ?? (activeRuns = /* @__PURE__ */ new Map());
				promise$1 = Promise.resolve(schema["~run"](dataset, runConfig));
				activeRuns.set(key, promise$1);
			}
			try {
				const outputDataset = await promise$1;
				this.cache.set(key, outputDataset);
				return /* @__PURE__ */ _cloneDataset(outputDataset);
			} finally {
				activeRuns?.delete(key);
			}
		}
	});
}

//#endregion
//#region src/methods/config/config.ts
/**
* Changes the local configuration of a schema.
*
* @param schema The schema to configure.
* @param config The parse configuration.
*
* @returns The configured schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function config(schema, config$1) {
	return _standardSchema({
		...schema,
		"~run"(dataset, config_) {
			return schema["~run"](dataset, {
				...config_,
				...config$1
			});
		}
	});
}

//#endregion
//#region src/methods/getFallback/getFallback.ts
/**
* Returns the fallback value of the schema.
*
* @param schema The schema to get it from.
* @param dataset The output dataset if available.
* @param config The config if available.
*
* @returns The fallback value.
*/
/* @__NO_SIDE_EFFECTS__ */
function getFallback(schema, dataset, config$1) {
	return typeof schema.fallback === "function" ? schema.fallback(dataset, config$1) : schema.fallback;
}

//#endregion
//#region src/methods/fallback/fallback.ts
/**
* Returns a fallback value as output if the input does not match the schema.
*
* @param schema The schema to catch.
* @param fallback The fallback value.
*
* @returns The passed schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function fallback(schema, fallback$1) {
	return _standardSchema({
		...schema,
		fallback: fallback$1,
		"~run"(dataset, config$1) {
			const outputDataset = schema["~run"](dataset, config$1);
			return outputDataset.issues ? {
				typed: true,
				value: /* @__PURE__ */ getFallback(this, outputDataset, config$1)
			} : outputDataset;
		}
	});
}

//#endregion
//#region src/methods/fallback/fallbackAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function fallbackAsync(schema, fallback$1) {
	return _standardSchema({
		...schema,
		fallback: fallback$1,
		async: true,
		async "~run"(dataset, config$1) {
			const outputDataset = await schema["~run"](dataset, config$1);
			return outputDataset.issues ? {
				typed: true,
				value: await /* @__PURE__ */ getFallback(this, outputDataset, config$1)
			} : outputDataset;
		}
	});
}

//#endregion
//#region src/methods/flatten/flatten.ts
/* @__NO_SIDE_EFFECTS__ */
function flatten(issues) {
	const flatErrors = {};
	for (const issue of issues) if (issue.path) {
		const dotPath = /* @__PURE__ */ getDotPath(issue);
		if (dotPath) {
			if (!flatErrors.nested) flatErrors.nested = {};
			if (Object.prototype.hasOwnProperty.call(flatErrors.nested, dotPath)) flatErrors.nested[dotPath].push(issue.message);
			else flatErrors.nested[dotPath] = [issue.message];
		} else if (flatErrors.other) flatErrors.other.push(issue.message);
		else flatErrors.other = [issue.message];
	} else if (flatErrors.root) flatErrors.root.push(issue.message);
	else flatErrors.root = [issue.message];
	return flatErrors;
}

//#endregion
//#region src/methods/forward/forward.ts
/**
* Forwards the issues of the passed validation action.
*
* @param action The validation action.
* @param path The path to forward the issues to.
*
* @returns The modified action.
*/
/* @__NO_SIDE_EFFECTS__ */
function forward(action, path) {
	return {
		...action,
		"~run"(dataset, config$1) {
			const prevIssues = dataset.issues && [...dataset.issues];
			dataset = action["~run"](dataset, config$1);
			if (dataset.issues) {
				for (const issue of dataset.issues) if (!prevIssues?.includes(issue)) {
					let pathInput = dataset.value;
					for (const key of path) {
						const pathValue = pathInput[key];
						const pathItem = {
							type: "unknown",
							origin: "value",
							input: pathInput,
							key,
							value: pathValue
						};
						if (issue.path) issue.path.push(pathItem);
						else issue.path = [pathItem];
						if (!pathValue) break;
						pathInput = pathValue;
					}
				}
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/methods/forward/forwardAsync.ts
/**
* Forwards the issues of the passed validation action.
*
* @param action The validation action.
* @param path The path to forward the issues to.
*
* @returns The modified action.
*/
/* @__NO_SIDE_EFFECTS__ */
function forwardAsync(action, path) {
	return {
		...action,
		async: true,
		async "~run"(dataset, config$1) {
			const prevIssues = dataset.issues && [...dataset.issues];
			dataset = await action["~run"](dataset, config$1);
			if (dataset.issues) {
				for (const issue of dataset.issues) if (!prevIssues?.includes(issue)) {
					let pathInput = dataset.value;
					for (const key of path) {
						const pathValue = pathInput[key];
						const pathItem = {
							type: "unknown",
							origin: "value",
							input: pathInput,
							key,
							value: pathValue
						};
						if (issue.path) issue.path.push(pathItem);
						else issue.path = [pathItem];
						if (!pathValue) break;
						pathInput = pathValue;
					}
				}
			}
			return dataset;
		}
	};
}

//#endregion
//#region src/methods/getDefault/getDefault.ts
/**
* Returns the default value of the schema.
*
* @param schema The schema to get it from.
* @param dataset The input dataset if available.
* @param config The config if available.
*
* @returns The default value.
*/
/* @__NO_SIDE_EFFECTS__ */
function getDefault(schema, dataset, config$1) {
	return typeof schema.default === "function" ? schema.default(dataset, config$1) : schema.default;
}

//#endregion
//#region src/methods/getDefaults/getDefaults.ts
/**
* Returns the default values of the schema.
*
* Hint: The difference to `getDefault` is that for object and tuple schemas
* this function recursively returns the default values of the subschemas
* instead of `undefined`.
*
* @param schema The schema to get them from.
*
* @returns The default values.
*/
/* @__NO_SIDE_EFFECTS__ */
function getDefaults(schema) {
	if ("entries" in schema) {
		const object$1 = {};
		for (const key in schema.entries) object$1[key] = /* @__PURE__ */ getDefaults(schema.entries[key]);
		return object$1;
	}
	if ("items" in schema) return schema.items.map(getDefaults);
	return /* @__PURE__ */ getDefault(schema);
}

//#endregion
//#region src/methods/getDefaults/getDefaultsAsync.ts
/**
* Returns the default values of the schema.
*
* Hint: The difference to `getDefault` is that for object and tuple schemas
* this function recursively returns the default values of the subschemas
* instead of `undefined`.
*
* @param schema The schema to get them from.
*
* @returns The default values.
*/
/* @__NO_SIDE_EFFECTS__ */
async function getDefaultsAsync(schema) {
	if ("entries" in schema) return Object.fromEntries(await Promise.all(Object.entries(schema.entries).map(async ([key, value$1]) => [key, await /* @__PURE__ */ getDefaultsAsync(value$1)])));
	if ("items" in schema) return Promise.all(schema.items.map(getDefaultsAsync));
	return /* @__PURE__ */ getDefault(schema);
}

//#endregion
//#region src/methods/getDescription/getDescription.ts
/**
* Returns the description of the schema.
*
* If multiple descriptions are defined, the last one of the highest level is
* returned. If no description is defined, `undefined` is returned.
*
* @param schema The schema to get the description from.
*
* @returns The description, if any.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function getDescription(schema) {
	return /* @__PURE__ */ _getLastMetadata(schema, "description");
}

//#endregion
//#region src/methods/getExamples/getExamples.ts
/**
* Returns the examples of a schema.
*
* If multiple examples are defined, it concatenates them using depth-first
* search. If no examples are defined, an empty array is returned.
*
* @param schema The schema to get the examples from.
*
* @returns The examples, if any.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function getExamples(schema) {
	const examples$1 = [];
	function depthFirstCollect(schema$1) {
		if ("pipe" in schema$1) {
			for (const item of schema$1.pipe) if (item.kind === "schema" && "pipe" in item) depthFirstCollect(item);
			else if (item.kind === "metadata" && item.type === "examples") for (const example of item.examples) examples$1.push(example);
		}
	}
	depthFirstCollect(schema);
	return examples$1;
}

//#endregion
//#region src/methods/getFallbacks/getFallbacks.ts
/**
* Returns the fallback values of the schema.
*
* Hint: The difference to `getFallback` is that for object and tuple schemas
* this function recursively returns the fallback values of the subschemas
* instead of `undefined`.
*
* @param schema The schema to get them from.
*
* @returns The fallback values.
*/
/* @__NO_SIDE_EFFECTS__ */
function getFallbacks(schema) {
	if ("entries" in schema) {
		const object$1 = {};
		for (const key in schema.entries) object$1[key] = /* @__PURE__ */ getFallbacks(schema.entries[key]);
		return object$1;
	}
	if ("items" in schema) return schema.items.map(getFallbacks);
	return /* @__PURE__ */ getFallback(schema);
}

//#endregion
//#region src/methods/getFallbacks/getFallbacksAsync.ts
/**
* Returns the fallback values of the schema.
*
* Hint: The difference to `getFallback` is that for object and tuple schemas
* this function recursively returns the fallback values of the subschemas
* instead of `undefined`.
*
* @param schema The schema to get them from.
*
* @returns The fallback values.
*/
/* @__NO_SIDE_EFFECTS__ */
async function getFallbacksAsync(schema) {
	if ("entries" in schema) return Object.fromEntries(await Promise.all(Object.entries(schema.entries).map(async ([key, value$1]) => [key, await /* @__PURE__ */ getFallbacksAsync(value$1)])));
	if ("items" in schema) return Promise.all(schema.items.map(getFallbacksAsync));
	return /* @__PURE__ */ getFallback(schema);
}

//#endregion
//#region src/methods/getMetadata/getMetadata.ts
/**
* Returns the metadata of a schema.
*
* If multiple metadata are defined, it shallowly merges them using depth-first
* search. If no metadata is defined, an empty object is returned.
*
* @param schema Schema to get the metadata from.
*
* @returns The metadata, if any.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function getMetadata(schema) {
	const result = {};
	function depthFirstMerge(schema$1) {
		if ("pipe" in schema$1) {
			for (const item of schema$1.pipe) if (item.kind === "schema" && "pipe" in item) depthFirstMerge(item);
			else if (item.kind === "metadata" && item.type === "metadata") Object.assign(result, item.metadata);
		}
	}
	depthFirstMerge(schema);
	return result;
}

//#endregion
//#region src/methods/getTitle/getTitle.ts
/**
* Returns the title of the schema.
*
* If multiple titles are defined, the last one of the highest level is
* returned. If no title is defined, `undefined` is returned.
*
* @param schema The schema to get the title from.
*
* @returns The title, if any.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function getTitle(schema) {
	return /* @__PURE__ */ _getLastMetadata(schema, "title");
}

//#endregion
//#region src/methods/is/is.ts
/**
* Checks if the input matches the schema. By using a type predicate, this
* function can be used as a type guard.
*
* @param schema The schema to be used.
* @param input The input to be tested.
*
* @returns Whether the input matches the schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function is(schema, input) {
	return !schema["~run"]({ value: input }, ABORT_EARLY_CONFIG).issues;
}

//#endregion
//#region src/schemas/any/any.ts
/**
* Creates an any schema.
*
* Hint: This schema function exists only for completeness and is not
* recommended in practice. Instead, `unknown` should be used to accept
* unknown data.
*
* @returns An any schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function any() {
	return _standardSchema({
		kind: "schema",
		type: "any",
		reference: any,
		expects: "any",
		async: false,
		"~run"(dataset) {
			dataset.typed = true;
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/array/array.ts
/* @__NO_SIDE_EFFECTS__ */
function array(item, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "array",
		reference: array,
		expects: "Array",
		async: false,
		item,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				for (let key = 0; key < input.length; key++) {
					const value$1 = input[key];
					const itemDataset = this.item["~run"]({ value: value$1 }, config$1);
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/array/arrayAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function arrayAsync(item, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "array",
		reference: arrayAsync,
		expects: "Array",
		async: true,
		item,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				const itemDatasets = await Promise.all(input.map((value$1) => this.item["~run"]({ value: value$1 }, config$1)));
				for (let key = 0; key < itemDatasets.length; key++) {
					const itemDataset = itemDatasets[key];
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: input[key]
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/bigint/bigint.ts
/* @__NO_SIDE_EFFECTS__ */
function bigint(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "bigint",
		reference: bigint,
		expects: "bigint",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (typeof dataset.value === "bigint") dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/blob/blob.ts
/* @__NO_SIDE_EFFECTS__ */
function blob(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "blob",
		reference: blob,
		expects: "Blob",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value instanceof Blob) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/boolean/boolean.ts
/* @__NO_SIDE_EFFECTS__ */
function boolean(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "boolean",
		reference: boolean,
		expects: "boolean",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (typeof dataset.value === "boolean") dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/custom/custom.ts
/* @__NO_SIDE_EFFECTS__ */
function custom(check$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "custom",
		reference: custom,
		expects: "unknown",
		async: false,
		check: check$1,
		message: message$1,
		"~run"(dataset, config$1) {
			if (this.check(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/custom/customAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function customAsync(check$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "custom",
		reference: customAsync,
		expects: "unknown",
		async: true,
		check: check$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (await this.check(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/date/date.ts
/* @__NO_SIDE_EFFECTS__ */
function date(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "date",
		reference: date,
		expects: "Date",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value instanceof Date) if (!isNaN(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1, { received: "\"Invalid Date\"" });
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/enum/enum.ts
/* @__NO_SIDE_EFFECTS__ */
function enum_(enum__, message$1) {
	const options = [];
	for (const key in enum__) if (`${+key}` !== key || typeof enum__[key] !== "string" || !Object.is(enum__[enum__[key]], +key)) options.push(enum__[key]);
	return _standardSchema({
		kind: "schema",
		type: "enum",
		reference: enum_,
		expects: /* @__PURE__ */ _joinExpects(options.map(_stringify), "|"),
		async: false,
		enum: enum__,
		options,
		message: message$1,
		"~run"(dataset, config$1) {
			if (this.options.includes(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/exactOptional/exactOptional.ts
/* @__NO_SIDE_EFFECTS__ */
function exactOptional(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "exact_optional",
		reference: exactOptional,
		expects: wrapped.expects,
		async: false,
		wrapped,
		default: default_,
		"~run"(dataset, config$1) {
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/exactOptional/exactOptionalAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function exactOptionalAsync(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "exact_optional",
		reference: exactOptionalAsync,
		expects: wrapped.expects,
		async: true,
		wrapped,
		default: default_,
		async "~run"(dataset, config$1) {
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/file/file.ts
/* @__NO_SIDE_EFFECTS__ */
function file(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "file",
		reference: file,
		expects: "File",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value instanceof File) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/function/function.ts
/* @__NO_SIDE_EFFECTS__ */
function function_(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "function",
		reference: function_,
		expects: "Function",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (typeof dataset.value === "function") dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/instance/instance.ts
/* @__NO_SIDE_EFFECTS__ */
function instance(class_, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "instance",
		reference: instance,
		expects: class_.name,
		async: false,
		class: class_,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value instanceof this.class) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/intersect/utils/_merge/_merge.ts
/**
* Merges two values into one single output.
*
* @param value1 First value.
* @param value2 Second value.
*
* @returns The merge dataset.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _merge(value1, value2) {
	if (typeof value1 === typeof value2) {
		if (/* @__PURE__ */ _isSameValueZero(value1, value2) || value1 instanceof Date && value2 instanceof Date && /* @__PURE__ */ _isSameValueZero(+value1, +value2)) return { value: value1 };
		if (value1 && value2 && value1.constructor === Object && value2.constructor === Object) {
			const nextValue = {
				...value1,
				...value2
			};
			for (const key in value2) if (Object.prototype.hasOwnProperty.call(value1, key) && Object.prototype.hasOwnProperty.call(value2, key)) {
				const dataset = /* @__PURE__ */ _merge(value1[key], value2[key]);
				if (dataset.issue) return dataset;
				nextValue[key] = dataset.value;
			}
			return { value: nextValue };
		}
		if (Array.isArray(value1) && Array.isArray(value2)) {
			if (value1.length === value2.length) {
				const nextValue = [...value1];
				for (let index = 0; index < value1.length; index++) {
					const dataset = /* @__PURE__ */ _merge(value1[index], value2[index]);
					if (dataset.issue) return dataset;
					nextValue[index] = dataset.value;
				}
				return { value: nextValue };
			}
		}
	}
	return { issue: true };
}

//#endregion
//#region src/schemas/intersect/intersect.ts
/* @__NO_SIDE_EFFECTS__ */
function intersect(options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "intersect",
		reference: intersect,
		expects: /* @__PURE__ */ _joinExpects(options.map((option) => option.expects), "&"),
		async: false,
		options,
		message: message$1,
		"~run"(dataset, config$1) {
			if (this.options.length) {
				const input = dataset.value;
				let outputs;
				dataset.typed = true;
				for (const schema of this.options) {
					const optionDataset = schema["~run"]({ value: input }, config$1);
					if (optionDataset.issues) {
						if (dataset.issues) for (const issue of optionDataset.issues) dataset.issues.push(issue);
						else dataset.issues = optionDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!optionDataset.typed) dataset.typed = false;
					if (dataset.typed) if (outputs) outputs.push(optionDataset.value);
					else outputs = [optionDataset.value];
				}
				if (dataset.typed) {
					dataset.value = outputs[0];
					for (let index = 1; index < outputs.length; index++) {
						const mergeDataset = /* @__PURE__ */ _merge(dataset.value, outputs[index]);
						if (mergeDataset.issue) {
							_addIssue(this, "type", dataset, config$1, { received: "unknown" });
							break;
						}
						dataset.value = mergeDataset.value;
					}
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/intersect/intersectAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function intersectAsync(options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "intersect",
		reference: intersectAsync,
		expects: /* @__PURE__ */ _joinExpects(options.map((option) => option.expects), "&"),
		async: true,
		options,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (this.options.length) {
				const input = dataset.value;
				let outputs;
				dataset.typed = true;
				const optionDatasets = await Promise.all(this.options.map((schema) => schema["~run"]({ value: input }, config$1)));
				for (const optionDataset of optionDatasets) {
					if (optionDataset.issues) {
						if (dataset.issues) for (const issue of optionDataset.issues) dataset.issues.push(issue);
						else dataset.issues = optionDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!optionDataset.typed) dataset.typed = false;
					if (dataset.typed) if (outputs) outputs.push(optionDataset.value);
					else outputs = [optionDataset.value];
				}
				if (dataset.typed) {
					dataset.value = outputs[0];
					for (let index = 1; index < outputs.length; index++) {
						const mergeDataset = /* @__PURE__ */ _merge(dataset.value, outputs[index]);
						if (mergeDataset.issue) {
							_addIssue(this, "type", dataset, config$1, { received: "unknown" });
							break;
						}
						dataset.value = mergeDataset.value;
					}
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/lazy/lazy.ts
/**
* Creates a lazy schema.
*
* @param getter The schema getter.
*
* @returns A lazy schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function lazy(getter) {
	return _standardSchema({
		kind: "schema",
		type: "lazy",
		reference: lazy,
		expects: "unknown",
		async: false,
		getter,
		"~run"(dataset, config$1) {
			return this.getter(dataset.value)["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/lazy/lazyAsync.ts
/**
* Creates a lazy schema.
*
* @param getter The schema getter.
*
* @returns A lazy schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function lazyAsync(getter) {
	return _standardSchema({
		kind: "schema",
		type: "lazy",
		reference: lazyAsync,
		expects: "unknown",
		async: true,
		getter,
		async "~run"(dataset, config$1) {
			return (await this.getter(dataset.value))["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/literal/literal.ts
/* @__NO_SIDE_EFFECTS__ */
function literal(literal_, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "literal",
		reference: literal,
		expects: /* @__PURE__ */ _stringify(literal_),
		async: false,
		literal: literal_,
		message: message$1,
		"~run"(dataset, config$1) {
			if (/* @__PURE__ */ _isSameValueZero(dataset.value, this.literal)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/looseObject/looseObject.ts
/* @__NO_SIDE_EFFECTS__ */
function looseObject(entries$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "loose_object",
		reference: looseObject,
		expects: "Object",
		async: false,
		entries: entries$1,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				for (const key in this.entries) {
					const valueSchema = this.entries[key];
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : /* @__PURE__ */ getDefault(valueSchema);
						const valueDataset = valueSchema["~run"]({ value: value$1 }, config$1);
						if (valueDataset.issues) {
							const pathItem = {
								type: "object",
								origin: "value",
								input,
								key,
								value: value$1
							};
							for (const issue of valueDataset.issues) {
								if (issue.path) issue.path.unshift(pathItem);
								else issue.path = [pathItem];
								dataset.issues?.push(issue);
							}
							if (!dataset.issues) dataset.issues = valueDataset.issues;
							if (config$1.abortEarly) {
								dataset.typed = false;
								break;
							}
						}
						if (!valueDataset.typed) dataset.typed = false;
						dataset.value[key] = valueDataset.value;
					} else if (valueSchema.fallback !== void 0) dataset.value[key] = /* @__PURE__ */ getFallback(valueSchema);
					else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
						_addIssue(this, "key", dataset, config$1, {
							input: void 0,
							expected: `"${key}"`,
							path: [{
								type: "object",
								origin: "key",
								input,
								key,
								value: input[key]
							}]
						});
						if (config$1.abortEarly) break;
					}
				}
				if (!dataset.issues || !config$1.abortEarly) {
					for (const key in input) if (/* @__PURE__ */ _isValidObjectKey(input, key) && !Object.prototype.hasOwnProperty.call(this.entries, key)) dataset.value[key] = input[key];
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/looseObject/looseObjectAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function looseObjectAsync(entries$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "loose_object",
		reference: looseObjectAsync,
		expects: "Object",
		async: true,
		entries: entries$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				const valueDatasets = await Promise.all(Object.entries(this.entries).map(async ([key, valueSchema]) => {
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : await /* @__PURE__ */ getDefault(valueSchema);
						return [
							key,
							value$1,
							valueSchema,
							await valueSchema["~run"]({ value: value$1 }, config$1)
						];
					}
					return [
						key,
						input[key],
						valueSchema,
						null
					];
				}));
				for (const [key, value$1, valueSchema, valueDataset] of valueDatasets) if (valueDataset) {
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value[key] = valueDataset.value;
				} else if (valueSchema.fallback !== void 0) dataset.value[key] = await /* @__PURE__ */ getFallback(valueSchema);
				else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
					_addIssue(this, "key", dataset, config$1, {
						input: void 0,
						expected: `"${key}"`,
						path: [{
							type: "object",
							origin: "key",
							input,
							key,
							value: value$1
						}]
					});
					if (config$1.abortEarly) break;
				}
				if (!dataset.issues || !config$1.abortEarly) {
					for (const key in input) if (/* @__PURE__ */ _isValidObjectKey(input, key) && !Object.prototype.hasOwnProperty.call(this.entries, key)) dataset.value[key] = input[key];
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/looseTuple/looseTuple.ts
/* @__NO_SIDE_EFFECTS__ */
function looseTuple(items, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "loose_tuple",
		reference: looseTuple,
		expects: "Array",
		async: false,
		items,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				for (let key = 0; key < this.items.length; key++) {
					const value$1 = input[key];
					const itemDataset = this.items[key]["~run"]({ value: value$1 }, config$1);
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
				if (!dataset.issues || !config$1.abortEarly) for (let key = this.items.length; key < input.length; key++) dataset.value.push(input[key]);
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/looseTuple/looseTupleAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function looseTupleAsync(items, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "loose_tuple",
		reference: looseTupleAsync,
		expects: "Array",
		async: true,
		items,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				const itemDatasets = await Promise.all(this.items.map(async (item, key) => {
					const value$1 = input[key];
					return [
						key,
						value$1,
						await item["~run"]({ value: value$1 }, config$1)
					];
				}));
				for (const [key, value$1, itemDataset] of itemDatasets) {
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
				if (!dataset.issues || !config$1.abortEarly) for (let key = this.items.length; key < input.length; key++) dataset.value.push(input[key]);
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/map/map.ts
/* @__NO_SIDE_EFFECTS__ */
function map(key, value$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "map",
		reference: map,
		expects: "Map",
		async: false,
		key,
		value: value$1,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input instanceof Map) {
				dataset.typed = true;
				dataset.value = /* @__PURE__ */ new Map();
				for (const [inputKey, inputValue] of input) {
					const keyDataset = this.key["~run"]({ value: inputKey }, config$1);
					if (keyDataset.issues) {
						const pathItem = {
							type: "map",
							origin: "key",
							input,
							key: inputKey,
							value: inputValue
						};
						for (const issue of keyDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = keyDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					const valueDataset = this.value["~run"]({ value: inputValue }, config$1);
					if (valueDataset.issues) {
						const pathItem = {
							type: "map",
							origin: "value",
							input,
							key: inputKey,
							value: inputValue
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!keyDataset.typed || !valueDataset.typed) dataset.typed = false;
					dataset.value.set(keyDataset.value, valueDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/map/mapAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function mapAsync(key, value$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "map",
		reference: mapAsync,
		expects: "Map",
		async: true,
		key,
		value: value$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input instanceof Map) {
				dataset.typed = true;
				dataset.value = /* @__PURE__ */ new Map();
				const datasets = await Promise.all([...input].map(([inputKey, inputValue]) => Promise.all([
					inputKey,
					inputValue,
					this.key["~run"]({ value: inputKey }, config$1),
					this.value["~run"]({ value: inputValue }, config$1)
				])));
				for (const [inputKey, inputValue, keyDataset, valueDataset] of datasets) {
					if (keyDataset.issues) {
						const pathItem = {
							type: "map",
							origin: "key",
							input,
							key: inputKey,
							value: inputValue
						};
						for (const issue of keyDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = keyDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (valueDataset.issues) {
						const pathItem = {
							type: "map",
							origin: "value",
							input,
							key: inputKey,
							value: inputValue
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!keyDataset.typed || !valueDataset.typed) dataset.typed = false;
					dataset.value.set(keyDataset.value, valueDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nan/nan.ts
/* @__NO_SIDE_EFFECTS__ */
function nan(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "nan",
		reference: nan,
		expects: "NaN",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (Number.isNaN(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/never/never.ts
/* @__NO_SIDE_EFFECTS__ */
function never(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "never",
		reference: never,
		expects: "never",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			_addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nonNullable/nonNullable.ts
/* @__NO_SIDE_EFFECTS__ */
function nonNullable(wrapped, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "non_nullable",
		reference: nonNullable,
		expects: "!null",
		async: false,
		wrapped,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value !== null) dataset = this.wrapped["~run"](dataset, config$1);
			if (dataset.value === null) _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nonNullable/nonNullableAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function nonNullableAsync(wrapped, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "non_nullable",
		reference: nonNullableAsync,
		expects: "!null",
		async: true,
		wrapped,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (dataset.value !== null) dataset = await this.wrapped["~run"](dataset, config$1);
			if (dataset.value === null) _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nonNullish/nonNullish.ts
/* @__NO_SIDE_EFFECTS__ */
function nonNullish(wrapped, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "non_nullish",
		reference: nonNullish,
		expects: "(!null & !undefined)",
		async: false,
		wrapped,
		message: message$1,
		"~run"(dataset, config$1) {
			if (!(dataset.value === null || dataset.value === void 0)) dataset = this.wrapped["~run"](dataset, config$1);
			if (dataset.value === null || dataset.value === void 0) _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nonNullish/nonNullishAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function nonNullishAsync(wrapped, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "non_nullish",
		reference: nonNullishAsync,
		expects: "(!null & !undefined)",
		async: true,
		wrapped,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (!(dataset.value === null || dataset.value === void 0)) dataset = await this.wrapped["~run"](dataset, config$1);
			if (dataset.value === null || dataset.value === void 0) _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nonOptional/nonOptional.ts
/* @__NO_SIDE_EFFECTS__ */
function nonOptional(wrapped, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "non_optional",
		reference: nonOptional,
		expects: "!undefined",
		async: false,
		wrapped,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value !== void 0) dataset = this.wrapped["~run"](dataset, config$1);
			if (dataset.value === void 0) _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nonOptional/nonOptionalAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function nonOptionalAsync(wrapped, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "non_optional",
		reference: nonOptionalAsync,
		expects: "!undefined",
		async: true,
		wrapped,
		message: message$1,
		async "~run"(dataset, config$1) {
			if (dataset.value !== void 0) dataset = await this.wrapped["~run"](dataset, config$1);
			if (dataset.value === void 0) _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/null/null.ts
/* @__NO_SIDE_EFFECTS__ */
function null_(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "null",
		reference: null_,
		expects: "null",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value === null) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/nullable/nullable.ts
/* @__NO_SIDE_EFFECTS__ */
function nullable(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "nullable",
		reference: nullable,
		expects: `(${wrapped.expects} | null)`,
		async: false,
		wrapped,
		default: default_,
		"~run"(dataset, config$1) {
			if (dataset.value === null) {
				if (this.default !== void 0) dataset.value = /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === null) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/nullable/nullableAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function nullableAsync(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "nullable",
		reference: nullableAsync,
		expects: `(${wrapped.expects} | null)`,
		async: true,
		wrapped,
		default: default_,
		async "~run"(dataset, config$1) {
			if (dataset.value === null) {
				if (this.default !== void 0) dataset.value = await /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === null) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/nullish/nullish.ts
/* @__NO_SIDE_EFFECTS__ */
function nullish(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "nullish",
		reference: nullish,
		expects: `(${wrapped.expects} | null | undefined)`,
		async: false,
		wrapped,
		default: default_,
		"~run"(dataset, config$1) {
			if (dataset.value === null || dataset.value === void 0) {
				if (this.default !== void 0) dataset.value = /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === null || dataset.value === void 0) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/nullish/nullishAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function nullishAsync(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "nullish",
		reference: nullishAsync,
		expects: `(${wrapped.expects} | null | undefined)`,
		async: true,
		wrapped,
		default: default_,
		async "~run"(dataset, config$1) {
			if (dataset.value === null || dataset.value === void 0) {
				if (this.default !== void 0) dataset.value = await /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === null || dataset.value === void 0) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/number/number.ts
/* @__NO_SIDE_EFFECTS__ */
function number(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "number",
		reference: number,
		expects: "number",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (typeof dataset.value === "number" && !isNaN(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/object/object.ts
/* @__NO_SIDE_EFFECTS__ */
function object(entries$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "object",
		reference: object,
		expects: "Object",
		async: false,
		entries: entries$1,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				for (const key in this.entries) {
					const valueSchema = this.entries[key];
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : /* @__PURE__ */ getDefault(valueSchema);
						const valueDataset = valueSchema["~run"]({ value: value$1 }, config$1);
						if (valueDataset.issues) {
							const pathItem = {
								type: "object",
								origin: "value",
								input,
								key,
								value: value$1
							};
							for (const issue of valueDataset.issues) {
								if (issue.path) issue.path.unshift(pathItem);
								else issue.path = [pathItem];
								dataset.issues?.push(issue);
							}
							if (!dataset.issues) dataset.issues = valueDataset.issues;
							if (config$1.abortEarly) {
								dataset.typed = false;
								break;
							}
						}
						if (!valueDataset.typed) dataset.typed = false;
						dataset.value[key] = valueDataset.value;
					} else if (valueSchema.fallback !== void 0) dataset.value[key] = /* @__PURE__ */ getFallback(valueSchema);
					else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
						_addIssue(this, "key", dataset, config$1, {
							input: void 0,
							expected: `"${key}"`,
							path: [{
								type: "object",
								origin: "key",
								input,
								key,
								value: input[key]
							}]
						});
						if (config$1.abortEarly) break;
					}
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/object/objectAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function objectAsync(entries$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "object",
		reference: objectAsync,
		expects: "Object",
		async: true,
		entries: entries$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				const valueDatasets = await Promise.all(Object.entries(this.entries).map(async ([key, valueSchema]) => {
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : await /* @__PURE__ */ getDefault(valueSchema);
						return [
							key,
							value$1,
							valueSchema,
							await valueSchema["~run"]({ value: value$1 }, config$1)
						];
					}
					return [
						key,
						input[key],
						valueSchema,
						null
					];
				}));
				for (const [key, value$1, valueSchema, valueDataset] of valueDatasets) if (valueDataset) {
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value[key] = valueDataset.value;
				} else if (valueSchema.fallback !== void 0) dataset.value[key] = await /* @__PURE__ */ getFallback(valueSchema);
				else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
					_addIssue(this, "key", dataset, config$1, {
						input: void 0,
						expected: `"${key}"`,
						path: [{
							type: "object",
							origin: "key",
							input,
							key,
							value: value$1
						}]
					});
					if (config$1.abortEarly) break;
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/objectWithRest/objectWithRest.ts
/* @__NO_SIDE_EFFECTS__ */
function objectWithRest(entries$1, rest, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "object_with_rest",
		reference: objectWithRest,
		expects: "Object",
		async: false,
		entries: entries$1,
		rest,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				for (const key in this.entries) {
					const valueSchema = this.entries[key];
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : /* @__PURE__ */ getDefault(valueSchema);
						const valueDataset = valueSchema["~run"]({ value: value$1 }, config$1);
						if (valueDataset.issues) {
							const pathItem = {
								type: "object",
								origin: "value",
								input,
								key,
								value: value$1
							};
							for (const issue of valueDataset.issues) {
								if (issue.path) issue.path.unshift(pathItem);
								else issue.path = [pathItem];
								dataset.issues?.push(issue);
							}
							if (!dataset.issues) dataset.issues = valueDataset.issues;
							if (config$1.abortEarly) {
								dataset.typed = false;
								break;
							}
						}
						if (!valueDataset.typed) dataset.typed = false;
						dataset.value[key] = valueDataset.value;
					} else if (valueSchema.fallback !== void 0) dataset.value[key] = /* @__PURE__ */ getFallback(valueSchema);
					else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
						_addIssue(this, "key", dataset, config$1, {
							input: void 0,
							expected: `"${key}"`,
							path: [{
								type: "object",
								origin: "key",
								input,
								key,
								value: input[key]
							}]
						});
						if (config$1.abortEarly) break;
					}
				}
				if (!dataset.issues || !config$1.abortEarly) {
					for (const key in input) if (/* @__PURE__ */ _isValidObjectKey(input, key) && !Object.prototype.hasOwnProperty.call(this.entries, key)) {
						const valueDataset = this.rest["~run"]({ value: input[key] }, config$1);
						if (valueDataset.issues) {
							const pathItem = {
								type: "object",
								origin: "value",
								input,
								key,
								value: input[key]
							};
							for (const issue of valueDataset.issues) {
								if (issue.path) issue.path.unshift(pathItem);
								else issue.path = [pathItem];
								dataset.issues?.push(issue);
							}
							if (!dataset.issues) dataset.issues = valueDataset.issues;
							if (config$1.abortEarly) {
								dataset.typed = false;
								break;
							}
						}
						if (!valueDataset.typed) dataset.typed = false;
						dataset.value[key] = valueDataset.value;
					}
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/objectWithRest/objectWithRestAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function objectWithRestAsync(entries$1, rest, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "object_with_rest",
		reference: objectWithRestAsync,
		expects: "Object",
		async: true,
		entries: entries$1,
		rest,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				const [normalDatasets, restDatasets] = await Promise.all([Promise.all(Object.entries(this.entries).map(async ([key, valueSchema]) => {
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : await /* @__PURE__ */ getDefault(valueSchema);
						return [
							key,
							value$1,
							valueSchema,
							await valueSchema["~run"]({ value: value$1 }, config$1)
						];
					}
					return [
						key,
						input[key],
						valueSchema,
						null
					];
				})), Promise.all(Object.entries(input).filter(([key]) => /* @__PURE__ */ _isValidObjectKey(input, key) && !Object.prototype.hasOwnProperty.call(this.entries, key)).map(async ([key, value$1]) => [
					key,
					value$1,
					await this.rest["~run"]({ value: value$1 }, config$1)
				]))]);
				for (const [key, value$1, valueSchema, valueDataset] of normalDatasets) if (valueDataset) {
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value[key] = valueDataset.value;
				} else if (valueSchema.fallback !== void 0) dataset.value[key] = await /* @__PURE__ */ getFallback(valueSchema);
				else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
					_addIssue(this, "key", dataset, config$1, {
						input: void 0,
						expected: `"${key}"`,
						path: [{
							type: "object",
							origin: "key",
							input,
							key,
							value: value$1
						}]
					});
					if (config$1.abortEarly) break;
				}
				if (!dataset.issues || !config$1.abortEarly) for (const [key, value$1, valueDataset] of restDatasets) {
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value[key] = valueDataset.value;
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/optional/optional.ts
/* @__NO_SIDE_EFFECTS__ */
function optional(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "optional",
		reference: optional,
		expects: `(${wrapped.expects} | undefined)`,
		async: false,
		wrapped,
		default: default_,
		"~run"(dataset, config$1) {
			if (dataset.value === void 0) {
				if (this.default !== void 0) dataset.value = /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === void 0) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/optional/optionalAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function optionalAsync(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "optional",
		reference: optionalAsync,
		expects: `(${wrapped.expects} | undefined)`,
		async: true,
		wrapped,
		default: default_,
		async "~run"(dataset, config$1) {
			if (dataset.value === void 0) {
				if (this.default !== void 0) dataset.value = await /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === void 0) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/picklist/picklist.ts
/* @__NO_SIDE_EFFECTS__ */
function picklist(options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "picklist",
		reference: picklist,
		expects: /* @__PURE__ */ _joinExpects(options.map(_stringify), "|"),
		async: false,
		options,
		message: message$1,
		"~run"(dataset, config$1) {
			if (this.options.includes(dataset.value)) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/promise/promise.ts
/* @__NO_SIDE_EFFECTS__ */
function promise(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "promise",
		reference: promise,
		expects: "Promise",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value instanceof Promise) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/record/record.ts
/* @__NO_SIDE_EFFECTS__ */
function record(key, value$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "record",
		reference: record,
		expects: "Object",
		async: false,
		key,
		value: value$1,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				for (const entryKey in input) if (/* @__PURE__ */ _isValidObjectKey(input, entryKey)) {
					const entryValue = input[entryKey];
					const keyDataset = this.key["~run"]({ value: entryKey }, config$1);
					if (keyDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "key",
							input,
							key: entryKey,
							value: entryValue
						};
						for (const issue of keyDataset.issues) {
							issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = keyDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					const valueDataset = this.value["~run"]({ value: entryValue }, config$1);
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key: entryKey,
							value: entryValue
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!keyDataset.typed || !valueDataset.typed) dataset.typed = false;
					if (keyDataset.typed) dataset.value[keyDataset.value] = valueDataset.value;
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/record/recordAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function recordAsync(key, value$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "record",
		reference: recordAsync,
		expects: "Object",
		async: true,
		key,
		value: value$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				const datasets = await Promise.all(Object.entries(input).filter(([key$1]) => /* @__PURE__ */ _isValidObjectKey(input, key$1)).map(([entryKey, entryValue]) => Promise.all([
					entryKey,
					entryValue,
					this.key["~run"]({ value: entryKey }, config$1),
					this.value["~run"]({ value: entryValue }, config$1)
				])));
				for (const [entryKey, entryValue, keyDataset, valueDataset] of datasets) {
					if (keyDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "key",
							input,
							key: entryKey,
							value: entryValue
						};
						for (const issue of keyDataset.issues) {
							issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = keyDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key: entryKey,
							value: entryValue
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!keyDataset.typed || !valueDataset.typed) dataset.typed = false;
					if (keyDataset.typed) dataset.value[keyDataset.value] = valueDataset.value;
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/set/set.ts
/* @__NO_SIDE_EFFECTS__ */
function set(value$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "set",
		reference: set,
		expects: "Set",
		async: false,
		value: value$1,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input instanceof Set) {
				dataset.typed = true;
				dataset.value = /* @__PURE__ */ new Set();
				for (const inputValue of input) {
					const valueDataset = this.value["~run"]({ value: inputValue }, config$1);
					if (valueDataset.issues) {
						const pathItem = {
							type: "set",
							origin: "value",
							input,
							key: null,
							value: inputValue
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value.add(valueDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/set/setAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function setAsync(value$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "set",
		reference: setAsync,
		expects: "Set",
		async: true,
		value: value$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input instanceof Set) {
				dataset.typed = true;
				dataset.value = /* @__PURE__ */ new Set();
				const valueDatasets = await Promise.all([...input].map(async (inputValue) => [inputValue, await this.value["~run"]({ value: inputValue }, config$1)]));
				for (const [inputValue, valueDataset] of valueDatasets) {
					if (valueDataset.issues) {
						const pathItem = {
							type: "set",
							origin: "value",
							input,
							key: null,
							value: inputValue
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value.add(valueDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/strictObject/strictObject.ts
/* @__NO_SIDE_EFFECTS__ */
function strictObject(entries$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "strict_object",
		reference: strictObject,
		expects: "Object",
		async: false,
		entries: entries$1,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				for (const key in this.entries) {
					const valueSchema = this.entries[key];
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : /* @__PURE__ */ getDefault(valueSchema);
						const valueDataset = valueSchema["~run"]({ value: value$1 }, config$1);
						if (valueDataset.issues) {
							const pathItem = {
								type: "object",
								origin: "value",
								input,
								key,
								value: value$1
							};
							for (const issue of valueDataset.issues) {
								if (issue.path) issue.path.unshift(pathItem);
								else issue.path = [pathItem];
								dataset.issues?.push(issue);
							}
							if (!dataset.issues) dataset.issues = valueDataset.issues;
							if (config$1.abortEarly) {
								dataset.typed = false;
								break;
							}
						}
						if (!valueDataset.typed) dataset.typed = false;
						dataset.value[key] = valueDataset.value;
					} else if (valueSchema.fallback !== void 0) dataset.value[key] = /* @__PURE__ */ getFallback(valueSchema);
					else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
						_addIssue(this, "key", dataset, config$1, {
							input: void 0,
							expected: `"${key}"`,
							path: [{
								type: "object",
								origin: "key",
								input,
								key,
								value: input[key]
							}]
						});
						if (config$1.abortEarly) break;
					}
				}
				if (!dataset.issues || !config$1.abortEarly) {
					for (const key in input) if (!Object.prototype.hasOwnProperty.call(this.entries, key)) {
						_addIssue(this, "key", dataset, config$1, {
							input: key,
							expected: "never",
							path: [{
								type: "object",
								origin: "key",
								input,
								key,
								value: input[key]
							}]
						});
						break;
					}
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/strictObject/strictObjectAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function strictObjectAsync(entries$1, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "strict_object",
		reference: strictObjectAsync,
		expects: "Object",
		async: true,
		entries: entries$1,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				dataset.typed = true;
				dataset.value = {};
				const valueDatasets = await Promise.all(Object.entries(this.entries).map(async ([key, valueSchema]) => {
					if (key in input || (valueSchema.type === "exact_optional" || valueSchema.type === "optional" || valueSchema.type === "nullish") && valueSchema.default !== void 0) {
						const value$1 = key in input ? input[key] : await /* @__PURE__ */ getDefault(valueSchema);
						return [
							key,
							value$1,
							valueSchema,
							await valueSchema["~run"]({ value: value$1 }, config$1)
						];
					}
					return [
						key,
						input[key],
						valueSchema,
						null
					];
				}));
				for (const [key, value$1, valueSchema, valueDataset] of valueDatasets) if (valueDataset) {
					if (valueDataset.issues) {
						const pathItem = {
							type: "object",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of valueDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = valueDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!valueDataset.typed) dataset.typed = false;
					dataset.value[key] = valueDataset.value;
				} else if (valueSchema.fallback !== void 0) dataset.value[key] = await /* @__PURE__ */ getFallback(valueSchema);
				else if (valueSchema.type !== "exact_optional" && valueSchema.type !== "optional" && valueSchema.type !== "nullish") {
					_addIssue(this, "key", dataset, config$1, {
						input: void 0,
						expected: `"${key}"`,
						path: [{
							type: "object",
							origin: "key",
							input,
							key,
							value: value$1
						}]
					});
					if (config$1.abortEarly) break;
				}
				if (!dataset.issues || !config$1.abortEarly) {
					for (const key in input) if (!Object.prototype.hasOwnProperty.call(this.entries, key)) {
						_addIssue(this, "key", dataset, config$1, {
							input: key,
							expected: "never",
							path: [{
								type: "object",
								origin: "key",
								input,
								key,
								value: input[key]
							}]
						});
						break;
					}
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/strictTuple/strictTuple.ts
/* @__NO_SIDE_EFFECTS__ */
function strictTuple(items, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "strict_tuple",
		reference: strictTuple,
		expects: "Array",
		async: false,
		items,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				for (let key = 0; key < this.items.length; key++) {
					const value$1 = input[key];
					const itemDataset = this.items[key]["~run"]({ value: value$1 }, config$1);
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
				if (!(dataset.issues && config$1.abortEarly) && this.items.length < input.length) _addIssue(this, "type", dataset, config$1, {
					input: input[this.items.length],
					expected: "never",
					path: [{
						type: "array",
						origin: "value",
						input,
						key: this.items.length,
						value: input[this.items.length]
					}]
				});
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/strictTuple/strictTupleAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function strictTupleAsync(items, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "strict_tuple",
		reference: strictTupleAsync,
		expects: "Array",
		async: true,
		items,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				const itemDatasets = await Promise.all(this.items.map(async (item, key) => {
					const value$1 = input[key];
					return [
						key,
						value$1,
						await item["~run"]({ value: value$1 }, config$1)
					];
				}));
				for (const [key, value$1, itemDataset] of itemDatasets) {
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
				if (!(dataset.issues && config$1.abortEarly) && this.items.length < input.length) _addIssue(this, "type", dataset, config$1, {
					input: input[this.items.length],
					expected: "never",
					path: [{
						type: "array",
						origin: "value",
						input,
						key: this.items.length,
						value: input[this.items.length]
					}]
				});
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/string/string.ts
/* @__NO_SIDE_EFFECTS__ */
function string(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "string",
		reference: string,
		expects: "string",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (typeof dataset.value === "string") dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/symbol/symbol.ts
/* @__NO_SIDE_EFFECTS__ */
function symbol(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "symbol",
		reference: symbol,
		expects: "symbol",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (typeof dataset.value === "symbol") dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/tuple/tuple.ts
/* @__NO_SIDE_EFFECTS__ */
function tuple(items, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "tuple",
		reference: tuple,
		expects: "Array",
		async: false,
		items,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				for (let key = 0; key < this.items.length; key++) {
					const value$1 = input[key];
					const itemDataset = this.items[key]["~run"]({ value: value$1 }, config$1);
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/tuple/tupleAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function tupleAsync(items, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "tuple",
		reference: tupleAsync,
		expects: "Array",
		async: true,
		items,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				const itemDatasets = await Promise.all(this.items.map(async (item, key) => {
					const value$1 = input[key];
					return [
						key,
						value$1,
						await item["~run"]({ value: value$1 }, config$1)
					];
				}));
				for (const [key, value$1, itemDataset] of itemDatasets) {
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/tupleWithRest/tupleWithRest.ts
/* @__NO_SIDE_EFFECTS__ */
function tupleWithRest(items, rest, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "tuple_with_rest",
		reference: tupleWithRest,
		expects: "Array",
		async: false,
		items,
		rest,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				for (let key = 0; key < this.items.length; key++) {
					const value$1 = input[key];
					const itemDataset = this.items[key]["~run"]({ value: value$1 }, config$1);
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
				if (!dataset.issues || !config$1.abortEarly) for (let key = this.items.length; key < input.length; key++) {
					const value$1 = input[key];
					const itemDataset = this.rest["~run"]({ value: value$1 }, config$1);
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/tupleWithRest/tupleWithRestAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function tupleWithRestAsync(items, rest, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "tuple_with_rest",
		reference: tupleWithRestAsync,
		expects: "Array",
		async: true,
		items,
		rest,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (Array.isArray(input)) {
				dataset.typed = true;
				dataset.value = [];
				const [normalDatasets, restDatasets] = await Promise.all([Promise.all(this.items.map(async (item, key) => {
					const value$1 = input[key];
					return [
						key,
						value$1,
						await item["~run"]({ value: value$1 }, config$1)
					];
				})), Promise.all(input.slice(this.items.length).map(async (value$1, key) => {
					return [
						key + this.items.length,
						value$1,
						await this.rest["~run"]({ value: value$1 }, config$1)
					];
				}))]);
				for (const [key, value$1, itemDataset] of normalDatasets) {
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
				if (!dataset.issues || !config$1.abortEarly) for (const [key, value$1, itemDataset] of restDatasets) {
					if (itemDataset.issues) {
						const pathItem = {
							type: "array",
							origin: "value",
							input,
							key,
							value: value$1
						};
						for (const issue of itemDataset.issues) {
							if (issue.path) issue.path.unshift(pathItem);
							else issue.path = [pathItem];
							dataset.issues?.push(issue);
						}
						if (!dataset.issues) dataset.issues = itemDataset.issues;
						if (config$1.abortEarly) {
							dataset.typed = false;
							break;
						}
					}
					if (!itemDataset.typed) dataset.typed = false;
					dataset.value.push(itemDataset.value);
				}
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/undefined/undefined.ts
/* @__NO_SIDE_EFFECTS__ */
function undefined_(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "undefined",
		reference: undefined_,
		expects: "undefined",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value === void 0) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/undefinedable/undefinedable.ts
/* @__NO_SIDE_EFFECTS__ */
function undefinedable(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "undefinedable",
		reference: undefinedable,
		expects: `(${wrapped.expects} | undefined)`,
		async: false,
		wrapped,
		default: default_,
		"~run"(dataset, config$1) {
			if (dataset.value === void 0) {
				if (this.default !== void 0) dataset.value = /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === void 0) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/undefinedable/undefinedableAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function undefinedableAsync(wrapped, default_) {
	return _standardSchema({
		kind: "schema",
		type: "undefinedable",
		reference: undefinedableAsync,
		expects: `(${wrapped.expects} | undefined)`,
		async: true,
		wrapped,
		default: default_,
		async "~run"(dataset, config$1) {
			if (dataset.value === void 0) {
				if (this.default !== void 0) dataset.value = await /* @__PURE__ */ getDefault(this, dataset, config$1);
				if (dataset.value === void 0) {
					dataset.typed = true;
					return dataset;
				}
			}
			return this.wrapped["~run"](dataset, config$1);
		}
	});
}

//#endregion
//#region src/schemas/union/utils/_subIssues/_subIssues.ts
/**
* Returns the sub issues of the provided datasets for the union issue.
*
* @param datasets The datasets.
*
* @returns The sub issues.
*
* @internal
*/
/* @__NO_SIDE_EFFECTS__ */
function _subIssues(datasets) {
	let issues;
	if (datasets) for (const dataset of datasets) if (issues) for (const issue of dataset.issues) issues.push(issue);
	else issues = dataset.issues;
	return issues;
}

//#endregion
//#region src/schemas/union/union.ts
/* @__NO_SIDE_EFFECTS__ */
function union(options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "union",
		reference: union,
		expects: /* @__PURE__ */ _joinExpects(options.map((option) => option.expects), "|"),
		async: false,
		options,
		message: message$1,
		"~run"(dataset, config$1) {
			let validDataset;
			let typedDatasets;
			let untypedDatasets;
			for (const schema of this.options) {
				const optionDataset = schema["~run"]({ value: dataset.value }, config$1);
				if (optionDataset.typed) if (optionDataset.issues) if (typedDatasets) typedDatasets.push(optionDataset);
				else typedDatasets = [optionDataset];
				else {
					validDataset = optionDataset;
					break;
				}
				else if (untypedDatasets) untypedDatasets.push(optionDataset);
				else untypedDatasets = [optionDataset];
			}
			if (validDataset) return validDataset;
			if (typedDatasets) {
				if (typedDatasets.length === 1) return typedDatasets[0];
				_addIssue(this, "type", dataset, config$1, { issues: /* @__PURE__ */ _subIssues(typedDatasets) });
				dataset.typed = true;
			} else if (untypedDatasets?.length === 1) return untypedDatasets[0];
			else _addIssue(this, "type", dataset, config$1, { issues: /* @__PURE__ */ _subIssues(untypedDatasets) });
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/union/unionAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function unionAsync(options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "union",
		reference: unionAsync,
		expects: /* @__PURE__ */ _joinExpects(options.map((option) => option.expects), "|"),
		async: true,
		options,
		message: message$1,
		async "~run"(dataset, config$1) {
			let validDataset;
			let typedDatasets;
			let untypedDatasets;
			for (const schema of this.options) {
				const optionDataset = await schema["~run"]({ value: dataset.value }, config$1);
				if (optionDataset.typed) if (optionDataset.issues) if (typedDatasets) typedDatasets.push(optionDataset);
				else typedDatasets = [optionDataset];
				else {
					validDataset = optionDataset;
					break;
				}
				else if (untypedDatasets) untypedDatasets.push(optionDataset);
				else untypedDatasets = [optionDataset];
			}
			if (validDataset) return validDataset;
			if (typedDatasets) {
				if (typedDatasets.length === 1) return typedDatasets[0];
				_addIssue(this, "type", dataset, config$1, { issues: /* @__PURE__ */ _subIssues(typedDatasets) });
				dataset.typed = true;
			} else if (untypedDatasets?.length === 1) return untypedDatasets[0];
			else _addIssue(this, "type", dataset, config$1, { issues: /* @__PURE__ */ _subIssues(untypedDatasets) });
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/unknown/unknown.ts
/**
* Creates a unknown schema.
*
* @returns A unknown schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function unknown() {
	return _standardSchema({
		kind: "schema",
		type: "unknown",
		reference: unknown,
		expects: "unknown",
		async: false,
		"~run"(dataset) {
			dataset.typed = true;
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/variant/variant.ts
/* @__NO_SIDE_EFFECTS__ */
function variant(key, options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "variant",
		reference: variant,
		expects: "Object",
		async: false,
		key,
		options,
		message: message$1,
		"~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				let outputDataset;
				let maxDiscriminatorPriority = 0;
				let invalidDiscriminatorKey = this.key;
				let expectedDiscriminators = [];
				const parseOptions = (variant$1, allKeys) => {
					for (const schema of variant$1.options) {
						if (schema.type === "variant") parseOptions(schema, new Set(allKeys).add(schema.key));
						else {
							let keysAreValid = true;
							let currentPriority = 0;
							for (const currentKey of allKeys) {
								const discriminatorSchema = schema.entries[currentKey];
								if (currentKey in input ? discriminatorSchema["~run"]({
									typed: false,
									value: input[currentKey]
								}, ABORT_EARLY_CONFIG).issues : discriminatorSchema.type !== "exact_optional" && discriminatorSchema.type !== "optional" && discriminatorSchema.type !== "nullish") {
									keysAreValid = false;
									if (invalidDiscriminatorKey !== currentKey && (maxDiscriminatorPriority < currentPriority || maxDiscriminatorPriority === currentPriority && currentKey in input && !(invalidDiscriminatorKey in input))) {
										maxDiscriminatorPriority = currentPriority;
										invalidDiscriminatorKey = currentKey;
										expectedDiscriminators = [];
									}
									if (invalidDiscriminatorKey === currentKey) expectedDiscriminators.push(schema.entries[currentKey].expects);
									break;
								}
								currentPriority++;
							}
							if (keysAreValid) {
								const optionDataset = schema["~run"]({ value: input }, config$1);
								if (!outputDataset || !outputDataset.typed && optionDataset.typed) outputDataset = optionDataset;
							}
						}
						if (outputDataset && !outputDataset.issues) break;
					}
				};
				parseOptions(this, new Set([this.key]));
				if (outputDataset) return outputDataset;
				_addIssue(this, "type", dataset, config$1, {
					input: input[invalidDiscriminatorKey],
					expected: /* @__PURE__ */ _joinExpects(expectedDiscriminators, "|"),
					path: [{
						type: "object",
						origin: "value",
						input,
						key: invalidDiscriminatorKey,
						value: input[invalidDiscriminatorKey]
					}]
				});
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/variant/variantAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function variantAsync(key, options, message$1) {
	return _standardSchema({
		kind: "schema",
		type: "variant",
		reference: variantAsync,
		expects: "Object",
		async: true,
		key,
		options,
		message: message$1,
		async "~run"(dataset, config$1) {
			const input = dataset.value;
			if (input && typeof input === "object") {
				let outputDataset;
				let maxDiscriminatorPriority = 0;
				let invalidDiscriminatorKey = this.key;
				let expectedDiscriminators = [];
				const parseOptions = async (variant$1, allKeys) => {
					for (const schema of variant$1.options) {
						if (schema.type === "variant") await parseOptions(schema, new Set(allKeys).add(schema.key));
						else {
							let keysAreValid = true;
							let currentPriority = 0;
							for (const currentKey of allKeys) {
								const discriminatorSchema = schema.entries[currentKey];
								if (currentKey in input ? (await discriminatorSchema["~run"]({
									typed: false,
									value: input[currentKey]
								}, ABORT_EARLY_CONFIG)).issues : discriminatorSchema.type !== "exact_optional" && discriminatorSchema.type !== "optional" && discriminatorSchema.type !== "nullish") {
									keysAreValid = false;
									if (invalidDiscriminatorKey !== currentKey && (maxDiscriminatorPriority < currentPriority || maxDiscriminatorPriority === currentPriority && currentKey in input && !(invalidDiscriminatorKey in input))) {
										maxDiscriminatorPriority = currentPriority;
										invalidDiscriminatorKey = currentKey;
										expectedDiscriminators = [];
									}
									if (invalidDiscriminatorKey === currentKey) expectedDiscriminators.push(schema.entries[currentKey].expects);
									break;
								}
								currentPriority++;
							}
							if (keysAreValid) {
								const optionDataset = await schema["~run"]({ value: input }, config$1);
								if (!outputDataset || !outputDataset.typed && optionDataset.typed) outputDataset = optionDataset;
							}
						}
						if (outputDataset && !outputDataset.issues) break;
					}
				};
				await parseOptions(this, new Set([this.key]));
				if (outputDataset) return outputDataset;
				_addIssue(this, "type", dataset, config$1, {
					input: input[invalidDiscriminatorKey],
					expected: /* @__PURE__ */ _joinExpects(expectedDiscriminators, "|"),
					path: [{
						type: "object",
						origin: "value",
						input,
						key: invalidDiscriminatorKey,
						value: input[invalidDiscriminatorKey]
					}]
				});
			} else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/schemas/void/void.ts
/* @__NO_SIDE_EFFECTS__ */
function void_(message$1) {
	return _standardSchema({
		kind: "schema",
		type: "void",
		reference: void_,
		expects: "void",
		async: false,
		message: message$1,
		"~run"(dataset, config$1) {
			if (dataset.value === void 0) dataset.typed = true;
			else _addIssue(this, "type", dataset, config$1);
			return dataset;
		}
	});
}

//#endregion
//#region src/methods/keyof/keyof.ts
/* @__NO_SIDE_EFFECTS__ */
function keyof(schema, message$1) {
	return /* @__PURE__ */ picklist(Object.keys(schema.entries), message$1);
}

//#endregion
//#region src/methods/message/message.ts
/**
* Changes the local message configuration of a schema.
*
* @param schema The schema to configure.
* @param message_ The error message.
*
* @returns The configured schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function message(schema, message_) {
	return _standardSchema({
		...schema,
		"~run"(dataset, config$1) {
			return schema["~run"](dataset, {
				...config$1,
				message: message_
			});
		}
	});
}

//#endregion
//#region src/methods/omit/omit.ts
/**
* Creates a modified copy of an object schema that does not contain the
* selected entries.
*
* @param schema The schema to omit from.
* @param keys The selected entries.
*
* @returns An object schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function omit(schema, keys) {
	const entries$1 = { ...schema.entries };
	for (const key of keys) delete entries$1[key];
	return _standardSchema({
		...schema,
		entries: entries$1
	});
}

//#endregion
//#region src/methods/parse/parse.ts
/**
* Parses an unknown input based on a schema.
*
* @param schema The schema to be used.
* @param input The input to be parsed.
* @param config The parse configuration.
*
* @returns The parsed input.
*/
function parse(schema, input, config$1) {
	const dataset = schema["~run"]({ value: input }, /* @__PURE__ */ getGlobalConfig(config$1));
	if (dataset.issues) throw new ValiError(dataset.issues);
	return dataset.value;
}

//#endregion
//#region src/methods/parse/parseAsync.ts
/**
* Parses an unknown input based on a schema.
*
* @param schema The schema to be used.
* @param input The input to be parsed.
* @param config The parse configuration.
*
* @returns The parsed input.
*/
async function parseAsync(schema, input, config$1) {
	const dataset = await schema["~run"]({ value: input }, /* @__PURE__ */ getGlobalConfig(config$1));
	if (dataset.issues) throw new ValiError(dataset.issues);
	return dataset.value;
}

//#endregion
//#region src/methods/parser/parser.ts
/* @__NO_SIDE_EFFECTS__ */
function parser(schema, config$1) {
	const func = (input) => parse(schema, input, config$1);
	func.schema = schema;
	func.config = config$1;
	return func;
}

//#endregion
//#region src/methods/parser/parserAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function parserAsync(schema, config$1) {
	const func = (input) => parseAsync(schema, input, config$1);
	func.schema = schema;
	func.config = config$1;
	return func;
}

//#endregion
//#region src/methods/partial/partial.ts
/* @__NO_SIDE_EFFECTS__ */
function partial(schema, keys) {
	const entries$1 = {};
	for (const key in schema.entries) entries$1[key] = !keys || keys.includes(key) ? /* @__PURE__ */ optional(schema.entries[key]) : schema.entries[key];
	return _standardSchema({
		...schema,
		entries: entries$1
	});
}

//#endregion
//#region src/methods/partial/partialAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function partialAsync(schema, keys) {
	const entries$1 = {};
	for (const key in schema.entries) entries$1[key] = !keys || keys.includes(key) ? /* @__PURE__ */ optionalAsync(schema.entries[key]) : schema.entries[key];
	return _standardSchema({
		...schema,
		entries: entries$1
	});
}

//#endregion
//#region src/methods/pick/pick.ts
/**
* Creates a modified copy of an object schema that contains only the selected
* entries.
*
* @param schema The schema to pick from.
* @param keys The selected entries.
*
* @returns An object schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function pick(schema, keys) {
	const entries$1 = {};
	for (const key of keys) entries$1[key] = schema.entries[key];
	return _standardSchema({
		...schema,
		entries: entries$1
	});
}

//#endregion
//#region src/methods/pipe/pipe.ts
/* @__NO_SIDE_EFFECTS__ */
function pipe(...pipe$1) {
	return _standardSchema({
		...pipe$1[0],
		pipe: pipe$1,
		"~run"(dataset, config$1) {
			for (const item of pipe$1) if (item.kind !== "metadata") {
				if (dataset.issues && (item.kind === "schema" || item.kind === "transformation")) {
					dataset.typed = false;
					break;
				}
				if (!dataset.issues || !config$1.abortEarly && !config$1.abortPipeEarly) dataset = item["~run"](dataset, config$1);
			}
			return dataset;
		}
	});
}

//#endregion
//#region src/methods/pipe/pipeAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function pipeAsync(...pipe$1) {
	return _standardSchema({
		...pipe$1[0],
		pipe: pipe$1,
		async: true,
		async "~run"(dataset, config$1) {
			for (const item of pipe$1) if (item.kind !== "metadata") {
				if (dataset.issues && (item.kind === "schema" || item.kind === "transformation")) {
					dataset.typed = false;
					break;
				}
				if (!dataset.issues || !config$1.abortEarly && !config$1.abortPipeEarly) dataset = await item["~run"](dataset, config$1);
			}
			return dataset;
		}
	});
}

//#endregion
//#region src/methods/required/required.ts
/* @__NO_SIDE_EFFECTS__ */
function required(schema, arg2, arg3) {
	const keys = Array.isArray(arg2) ? arg2 : void 0;
	const message$1 = Array.isArray(arg2) ? arg3 : arg2;
	const entries$1 = {};
	for (const key in schema.entries) entries$1[key] = !keys || keys.includes(key) ? /* @__PURE__ */ nonOptional(schema.entries[key], message$1) : schema.entries[key];
	return _standardSchema({
		...schema,
		entries: entries$1
	});
}

//#endregion
//#region src/methods/required/requiredAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function requiredAsync(schema, arg2, arg3) {
	const keys = Array.isArray(arg2) ? arg2 : void 0;
	const message$1 = Array.isArray(arg2) ? arg3 : arg2;
	const entries$1 = {};
	for (const key in schema.entries) entries$1[key] = !keys || keys.includes(key) ? /* @__PURE__ */ nonOptionalAsync(schema.entries[key], message$1) : schema.entries[key];
	return _standardSchema({
		...schema,
		entries: entries$1
	});
}

//#endregion
//#region src/methods/safeParse/safeParse.ts
/**
* Parses an unknown input based on a schema.
*
* @param schema The schema to be used.
* @param input The input to be parsed.
* @param config The parse configuration.
*
* @returns The parse result.
*/
/* @__NO_SIDE_EFFECTS__ */
function safeParse(schema, input, config$1) {
	const dataset = schema["~run"]({ value: input }, /* @__PURE__ */ getGlobalConfig(config$1));
	return {
		typed: dataset.typed,
		success: !dataset.issues,
		output: dataset.value,
		issues: dataset.issues
	};
}

//#endregion
//#region src/methods/safeParse/safeParseAsync.ts
/**
* Parses an unknown input based on a schema.
*
* @param schema The schema to be used.
* @param input The input to be parsed.
* @param config The parse configuration.
*
* @returns The parse result.
*/
/* @__NO_SIDE_EFFECTS__ */
async function safeParseAsync(schema, input, config$1) {
	const dataset = await schema["~run"]({ value: input }, /* @__PURE__ */ getGlobalConfig(config$1));
	return {
		typed: dataset.typed,
		success: !dataset.issues,
		output: dataset.value,
		issues: dataset.issues
	};
}

//#endregion
//#region src/methods/safeParser/safeParser.ts
/* @__NO_SIDE_EFFECTS__ */
function safeParser(schema, config$1) {
	const func = (input) => /* @__PURE__ */ safeParse(schema, input, config$1);
	func.schema = schema;
	func.config = config$1;
	return func;
}

//#endregion
//#region src/methods/safeParser/safeParserAsync.ts
/* @__NO_SIDE_EFFECTS__ */
function safeParserAsync(schema, config$1) {
	const func = (input) => /* @__PURE__ */ safeParseAsync(schema, input, config$1);
	func.schema = schema;
	func.config = config$1;
	return func;
}

//#endregion
//#region src/methods/summarize/summarize.ts
/**
* Summarize the error messages of issues in a pretty-printable multi-line string.
*
* @param issues The list of issues.
*
* @returns A summary of the issues.
*
* @beta
*/
/* @__NO_SIDE_EFFECTS__ */
function summarize(issues) {
	let summary = "";
	for (const issue of issues) {
		if (summary) summary += "\n";
		summary += `× ${issue.message}`;
		const dotPath = /* @__PURE__ */ getDotPath(issue);
		if (dotPath) summary += `\n  → at ${dotPath}`;
	}
	return summary;
}

//#endregion
//#region src/methods/unwrap/unwrap.ts
/**
* Unwraps the wrapped schema.
*
* @param schema The schema to be unwrapped.
*
* @returns The unwrapped schema.
*/
/* @__NO_SIDE_EFFECTS__ */
function unwrap(schema) {
	return schema.wrapped;
}

//#endregion


/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId].call(module.exports, module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/compat get default export */
/******/ (() => {
/******/ 	// getDefaultExport function for compatibility with non-harmony modules
/******/ 	__nccwpck_require__.n = (module) => {
/******/ 		var getter = module && module.__esModule ?
/******/ 			() => (module['default']) :
/******/ 			() => (module);
/******/ 		__nccwpck_require__.d(getter, { a: getter });
/******/ 		return getter;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(2827);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
