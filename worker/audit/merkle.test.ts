import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactTree,
  EMPTY_ROOT,
  ProofError,
  consistencyProof,
  fromHexHash,
  hashChildren,
  hashLeaf,
  inclusionProof,
  rootFromInclusionProof,
  subtreeHash,
  toHexHash,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type NodeReader,
} from './merkle';

// The RFC 6962 test vectors published with Certificate Transparency and kept by transparency-dev
// (github.com/transparency-dev/merkle, proof/verify_test.go and rfc6962/rfc6962_test.go): eight
// leaves, the tree head at every size, and known-good inclusion and consistency proofs.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// { leaf: 1-based index, size, proof }
const INCLUSION = [
  { leaf: 1, size: 1, proof: [] },
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CONSISTENCY = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const bytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const h = fromHexHash;
const hex = toHexHash;

/** A tree held in memory the way the audit object holds it: every perfect node by (level, index). */
function buildTree(leafHashes: Hash[]): { tree: CompactTree; read: NodeReader } {
  const nodes = new Map<string, Hash>();
  const tree = CompactTree.empty();
  for (const leaf of leafHashes) for (const n of tree.append(leaf)) nodes.set(`${n.level}:${n.index}`, n.hash);
  const read: NodeReader = (level, index) => {
    const node = nodes.get(`${level}:${index}`);
    if (!node) throw new Error(`node ${level}:${index} is not stored`);
    return node;
  };
  return { tree, read };
}

/** The RFC 6962 definition, recursively, as the reference the incremental tree must agree with. */
function referenceRoot(leaves: Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const flip = (x: Hash, bit = 3): Hash => {
  const y = Uint8Array.from(x);
  y[0]! ^= 1 << bit;
  return y;
};

describe('RFC 6962 test vectors', () => {
  const leafHashes = LEAVES.map((l) => hashLeaf(bytes(l)));
  const { read } = buildTree(leafHashes);

  it('has the published empty-tree hash', () => {
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('computes the published tree head at every size, incrementally', () => {
    const tree = CompactTree.empty();
    LEAVES.forEach((_, i) => {
      tree.append(leafHashes[i]!);
      expect(hex(tree.root()), `size ${i + 1}`).toBe(ROOTS[i]);
      expect(hex(subtreeHash(read, 0, i + 1))).toBe(ROOTS[i]);
      expect(hex(CompactTree.load(i + 1, read).root())).toBe(ROOTS[i]);
    });
  });

  it('generates and verifies the published inclusion proofs', () => {
    for (const v of INCLUSION) {
      const proof = inclusionProof(read, v.leaf - 1, v.size);
      expect(proof.map(hex), `leaf ${v.leaf} of ${v.size}`).toEqual(v.proof);
      expect(() => verifyInclusion(v.leaf - 1, v.size, leafHashes[v.leaf - 1]!, proof, h(ROOTS[v.size - 1]!))).not.toThrow();
    }
  });

  it('generates and verifies the published consistency proofs', () => {
    for (const v of CONSISTENCY) {
      const proof = consistencyProof(read, v.size1, v.size2);
      expect(proof.map(hex), `${v.size1} → ${v.size2}`).toEqual(v.proof);
      expect(() => verifyConsistency(v.size1, v.size2, h(ROOTS[v.size1 - 1]!), h(ROOTS[v.size2 - 1]!), proof)).not.toThrow();
    }
  });

  it('rejects every corruption of the inclusion proofs (the probes of the reference implementation)', () => {
    const some = h('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (const v of INCLUSION.filter((x) => x.size > 1)) {
      const i = v.leaf - 1;
      const leaf = leafHashes[i]!;
      const root = h(ROOTS[v.size - 1]!);
      const proof = v.proof.map(h);
      const probes: [number, number, Hash, Hash[], Hash][] = [
        [i - 1, v.size, leaf, proof, root],
        [i + 1, v.size, leaf, proof, root],
        [i ^ 2, v.size, leaf, proof, root],
        [i, v.size * 2, leaf, proof, root],
        [i, Math.floor(v.size / 2), leaf, proof, root],
        [i, v.size, hashLeaf('WrongLeaf'), proof, root],
        [i, v.size, leaf, proof, EMPTY_ROOT],
        [i, v.size, leaf, proof, some],
        [i, v.size, leaf, [...proof, new Uint8Array(0)], root],
        [i, v.size, leaf, [...proof, root], root],
        [i, v.size, leaf, [new Uint8Array(0), ...proof], root],
        [i, v.size, leaf, [root, ...proof], root],
        [i, v.size, leaf, proof.slice(0, -1), root],
        [i, v.size, leaf, [proof[0]!, some, ...proof.slice(1)], root],
        ...proof.map((_, j): [number, number, Hash, Hash[], Hash] => [i, v.size, leaf, proof.map((p, k) => (k === j ? flip(p) : p)), root]),
      ];
      for (const [index, size, lf, pr, rt] of probes) {
        expect(() => verifyInclusion(index, size, lf, pr, rt), `leaf ${index} of ${size}`).toThrow(ProofError);
      }
    }
  });

  it('rejects every corruption of the consistency proofs', () => {
    for (const v of CONSISTENCY.filter((x) => x.proof.length > 0)) {
      const r1 = h(ROOTS[v.size1 - 1]!);
      const r2 = h(ROOTS[v.size2 - 1]!);
      const p = v.proof.map(h);
      const probes: [number, number, Hash, Hash, Hash[]][] = [
        [v.size1 - 1, v.size2, r1, r2, p],
        [v.size1 + 1, v.size2, r1, r2, p],
        [v.size1 ^ 2, v.size2, r1, r2, p],
        [v.size1, v.size2 * 2, r1, r2, p],
        [v.size1, Math.floor(v.size2 / 2), r1, r2, p],
        [v.size1, v.size2, hashLeaf('WrongRoot'), r2, p],
        [v.size1, v.size2, r1, hashLeaf('WrongRoot'), p],
        [v.size1, v.size2, r2, r1, p],
        [v.size1, v.size2, r1, r2, []],
        [v.size1, v.size2, r1, r2, [...p, new Uint8Array(0)]],
        [v.size1, v.size2, r1, r2, [...p, r1]],
        [v.size1, v.size2, r1, r2, [...p, r2]],
        [v.size1, v.size2, r1, r2, [new Uint8Array(0), ...p]],
        [v.size1, v.size2, r1, r2, [r1, ...p]],
        [v.size1, v.size2, r1, r2, [r2, ...p]],
        [v.size1, v.size2, r1, r2, [p[0]!, ...p]],
        [v.size1, v.size2, r1, r2, p.slice(0, -1)],
        ...p.map((_, j): [number, number, Hash, Hash, Hash[]] => [v.size1, v.size2, r1, r2, p.map((x, k) => (k === j ? flip(x, 4) : x))]),
      ];
      for (const [s1, s2, a, b, pr] of probes) {
        expect(() => verifyConsistency(s1, s2, a, b, pr), `${s1} → ${s2}`).toThrow(ProofError);
      }
    }
  });

  it('treats the trivial consistency cases as the reference does', () => {
    const a = hashLeaf('a');
    const b = hashLeaf('b');
    expect(() => verifyConsistency(0, 0, a, a, [])).not.toThrow();
    expect(() => verifyConsistency(0, 1, a, b, [])).not.toThrow();
    expect(() => verifyConsistency(1, 1, b, b, [])).not.toThrow();
    expect(() => verifyConsistency(1, 1, a, b, [])).toThrow(ProofError);
    expect(() => verifyConsistency(1, 0, a, b, [])).toThrow(ProofError);
    expect(() => verifyConsistency(1, 2, a, b, [])).toThrow(ProofError);
    expect(() => verifyConsistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toThrow(ProofError);
  });
});

describe('the incremental tree (property tests)', () => {
  const leafList = fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 });

  it('agrees with the recursive definition at every size, and after reloading from stored nodes', () => {
    fc.assert(
      fc.property(leafList, (data) => {
        const leaves = data.map((d) => hashLeaf(d));
        const { tree, read } = buildTree(leaves);
        expect(hex(tree.root())).toBe(hex(referenceRoot(leaves)));
        const k = Math.ceil(leaves.length / 2);
        expect(hex(CompactTree.load(k, read).root())).toBe(hex(referenceRoot(leaves.slice(0, k))));
      }),
    );
  });

  it('produces inclusion and consistency proofs that verify, for every leaf and every pair of sizes', () => {
    fc.assert(
      fc.property(leafList, fc.nat(), fc.nat(), (data, a, b) => {
        const leaves = data.map((d) => hashLeaf(d));
        const { read } = buildTree(leaves);
        const size = 1 + (b % leaves.length);
        const index = a % size;
        const root = subtreeHash(read, 0, size);
        const proof = inclusionProof(read, index, size);
        expect(hex(rootFromInclusionProof(index, size, leaves[index]!, proof))).toBe(hex(root));
        const m = 1 + (a % size);
        verifyConsistency(m, size, subtreeHash(read, 0, m), root, consistencyProof(read, m, size));
      }),
    );
  });

  it('rejects a proof for any other leaf, or with any element changed', () => {
    fc.assert(
      fc.property(leafList.filter((l) => l.length >= 2), fc.nat(), fc.nat(), (data, a, b) => {
        const leaves = data.map((d, i) => hashLeaf(new Uint8Array([...d, i])));
        const { read } = buildTree(leaves);
        const size = leaves.length;
        const index = a % size;
        const proof = inclusionProof(read, index, size);
        const root = subtreeHash(read, 0, size);
        const other = (index + 1 + (b % (size - 1))) % size;
        expect(() => verifyInclusion(other, size, leaves[index]!, proof, root)).toThrow(ProofError);
        const j = b % proof.length;
        expect(() => verifyInclusion(index, size, leaves[index]!, proof.map((p, k) => (k === j ? flip(p) : p)), root)).toThrow(ProofError);
      }),
    );
  });
});
