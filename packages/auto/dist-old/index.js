"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
const register_1 = require("./register");
exports.registerAll = register_1.registerAll;
exports.autoStatus = register_1.autoStatus;
(0, register_1.registerAll)();
