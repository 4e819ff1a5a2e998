// A small decoder of Mapbox Vector Tiles (MVT 2.1), written for incidentmap's
// map page so that it needs no bundler and no third-party tile library.
//
// A tile is a Protocol Buffers message. Only four wire types occur in it:
//   0 varint (7 bits a byte, low group first, high bit set on all but the last),
//   1 a fixed 64-bit value, 2 a length-delimited run of bytes, 5 a fixed 32-bit value.
// Each field starts with a varint key: field number << 3 | wire type.
//
//   Tile    { repeated Layer layers = 3; }
//   Layer   { uint32 version = 15; string name = 1; repeated Feature features = 2;
//             repeated string keys = 3; repeated Value values = 4; uint32 extent = 5 [default 4096]; }
//   Feature { uint64 id = 1; repeated uint32 tags = 2 [packed]; GeomType type = 3;
//             repeated uint32 geometry = 4 [packed]; }
//   Value   { string = 1; float = 2; double = 3; int64 = 4; uint64 = 5; sint64 = 6; bool = 7; }
//
// Feature tags are pairs of indexes into the layer's keys and values. The
// geometry is a run of commands, each a varint (command id in the low 3 bits,
// repeat count above them) followed by count × 2 zigzag-encoded deltas from
// the previous cursor position: MoveTo (1), LineTo (2), ClosePath (7, no
// parameters). Coordinates are in tile units, 0..extent, y pointing down.
//
// Usage: IncidentMVT.decode(uint8Array) returns {layers: {name: layer}} where a
// layer is {name, version, extent, features} and a feature is
// {id, type, properties, geometry}; geometry is a list of parts, each a list of
// [x, y] (a point feature has one single-point part per point).
"use strict";
(function (global) {
  const GEOM_TYPES = ["Unknown", "Point", "LineString", "Polygon"];

  // Reader walks a byte array; every read advances pos.
  class Reader {
    constructor(bytes, start, end) {
      this.buf = bytes;
      this.pos = start;
      this.end = end;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }

    byte() {
      if (this.pos >= this.end) throw new Error("MVT: varint runs past the end of its message");
      return this.buf[this.pos++];
    }

    // varint64 reads a varint as its low and high 32 bits, both unsigned.
    // JavaScript's bitwise operators work on 32 bits, so the 64 bits are
    // gathered in two halves: 28 bits from the first four bytes, 4 + 3 from
    // the fifth, and 7 from each of the rest (1 from the tenth).
    varint64() {
      let lo = 0, hi = 0, b;
      for (let shift = 0; shift < 28; shift += 7) {
        b = this.byte();
        lo |= (b & 0x7f) << shift;
        if (!(b & 0x80)) return [lo >>> 0, 0];
      }
      b = this.byte();
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x7f) >> 4;
      if (!(b & 0x80)) return [lo >>> 0, hi];
      for (let shift = 3; shift < 32; shift += 7) {
        b = this.byte();
        hi |= (b & 0x7f) << shift;
        if (!(b & 0x80)) return [lo >>> 0, hi >>> 0];
      }
      throw new Error("MVT: varint longer than 10 bytes");
    }

    // varint reads an unsigned varint as a Number; beyond 2^53 it loses
    // precision, which the ids and counts of a tile never reach.
    varint() {
      const [lo, hi] = this.varint64();
      return hi * 4294967296 + lo;
    }

    // int64 reads a two's-complement varint: a negative int64 is sent as the
    // 10-byte varint of 2^64 + value, so it is negated half by half.
    int64() {
      const [lo, hi] = this.varint64();
      if (!(hi & 0x80000000)) return hi * 4294967296 + lo;
      return -((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1);
    }

    // sint reads a zigzag varint: 0, -1, 1, -2, … are sent as 0, 1, 2, 3, …
    sint() { return zigzag(this.varint()); }

    bytes() {
      const n = this.varint();
      if (this.pos + n > this.end) throw new Error("MVT: field runs past the end of its message");
      const start = this.pos;
      this.pos += n;
      return [start, this.pos];
    }

    string() {
      const [s, e] = this.bytes();
      return utf8.decode(this.buf.subarray(s, e));
    }

    float() { this.need(4); const v = this.view.getFloat32(this.pos, true); this.pos += 4; return v; }
    double() { this.need(8); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
    need(n) { if (this.pos + n > this.end) throw new Error("MVT: fixed-size field runs past the end"); }

    // skip passes over a field this decoder does not use, so tiles from
    // newer writers with extra fields still decode.
    skip(wire) {
      switch (wire) {
        case 0: this.varint(); break;
        case 1: this.need(8); this.pos += 8; break;
        case 2: this.bytes(); break;
        case 5: this.need(4); this.pos += 4; break;
        default: throw new Error(`MVT: unknown wire type ${wire} at byte ${this.pos}`);
      }
    }

    // packed reads a repeated uint32 field, whether packed (wire type 2, the
    // norm) or sent one value per key (wire type 0, also valid protobuf).
    packed(wire, out) {
      if (wire === 0) { out.push(this.varint()); return; }
      if (wire !== 2) throw new Error(`MVT: repeated field with wire type ${wire}`);
      const [s, e] = this.bytes();
      const sub = new Reader(this.buf, s, e);
      while (sub.pos < sub.end) out.push(sub.varint());
    }

    // fields calls fn(fieldNumber, wireType) for each field until the end;
    // fn must consume the field's value.
    fields(fn) {
      while (this.pos < this.end) {
        const key = this.varint();
        fn(Math.floor(key / 8), key & 7);
      }
    }

    // sub returns a reader over a length-delimited field's bytes.
    sub() {
      const [s, e] = this.bytes();
      return new Reader(this.buf, s, e);
    }
  }

  const utf8 = new TextDecoder("utf-8");
  function zigzag(n) { return n % 2 === 1 ? -(n + 1) / 2 : n / 2; }

  function decodeValue(r) {
    let v = null;
    r.fields((field, wire) => {
      switch (field) {
        case 1: v = r.string(); break;
        case 2: v = r.float(); break;
        case 3: v = r.double(); break;
        case 4: v = r.int64(); break;
        case 5: v = r.varint(); break;
        case 6: v = r.sint(); break;
        case 7: v = r.varint() !== 0; break;
        default: r.skip(wire);
      }
    });
    return v;
  }

  // decodeGeometry turns the command stream into parts of [x, y] points.
  function decodeGeometry(cmds) {
    const parts = [];
    let x = 0, y = 0, part = null;
    for (let i = 0; i < cmds.length;) {
      const id = cmds[i] & 7, count = cmds[i] >>> 3;
      i++;
      if (id === 7) { // ClosePath: back to the part's first point
        if (part && part.length) part.push([part[0][0], part[0][1]]);
        continue;
      }
      if (id !== 1 && id !== 2) throw new Error(`MVT: unknown geometry command ${id}`);
      if (i + 2 * count > cmds.length) throw new Error("MVT: geometry command lacks its parameters");
      for (let k = 0; k < count; k++) {
        x += zigzag(cmds[i++]);
        y += zigzag(cmds[i++]);
        // Each MoveTo point starts a part: for points, one part per point.
        if (id === 1 || !part) { part = []; parts.push(part); }
        part.push([x, y]);
      }
    }
    return parts;
  }

  function decodeFeature(r) {
    const f = { id: undefined, type: "Unknown", tags: [], cmds: [] };
    r.fields((field, wire) => {
      switch (field) {
        case 1: f.id = r.varint(); break;
        case 2: r.packed(wire, f.tags); break;
        case 3: f.type = GEOM_TYPES[r.varint()] || "Unknown"; break;
        case 4: r.packed(wire, f.cmds); break;
        default: r.skip(wire);
      }
    });
    return f;
  }

  function decodeLayer(r) {
    const layer = { name: "", version: 1, extent: 4096, features: [] };
    const keys = [], values = [], raw = [];
    r.fields((field, wire) => {
      switch (field) {
        case 15: layer.version = r.varint(); break;
        case 1: layer.name = r.string(); break;
        case 2: raw.push(decodeFeature(r.sub())); break;
        case 3: keys.push(r.string()); break;
        case 4: values.push(decodeValue(r.sub())); break;
        case 5: layer.extent = r.varint(); break;
        default: r.skip(wire);
      }
    });
    // Tags refer to keys and values that may come after the feature in the
    // message, so properties are resolved once the whole layer is read.
    for (const f of raw) {
      if (f.tags.length % 2) throw new Error(`MVT: layer ${layer.name}: a feature has an odd number of tags`);
      const properties = {};
      for (let i = 0; i < f.tags.length; i += 2) {
        const k = keys[f.tags[i]], v = values[f.tags[i + 1]];
        if (k === undefined || v === undefined) throw new Error(`MVT: layer ${layer.name}: a tag points past the keys or values`);
        properties[k] = v;
      }
      layer.features.push({ id: f.id, type: f.type, properties, geometry: decodeGeometry(f.cmds) });
    }
    return layer;
  }

  // decode reads a whole (already gunzipped) tile.
  function decode(bytes) {
    if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
    const r = new Reader(bytes, 0, bytes.length);
    const layers = {};
    r.fields((field, wire) => {
      if (field === 3 && wire === 2) {
        const layer = decodeLayer(r.sub());
        layers[layer.name] = layer;
      } else {
        r.skip(wire);
      }
    });
    return { layers };
  }

  global.IncidentMVT = { decode };
})(window);
