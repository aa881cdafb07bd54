// Test fixture for the mysql target: the local MariaDB/MySQL server (root, no
// password), a password-protected user that owns the test databases, a seed
// with every kind of object, and a snapshot of a database to compare after a
// restore (ordered rows, hex for text and binary, SHOW CREATE for the rest).
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { serviceAvailable } from '../../sdk/conformance/services'

export const SERVER = { host: '127.0.0.1', port: 3306 }

function root(sql: string, db?: string, input?: string): string {
  const args = ['-h', SERVER.host, '-P', String(SERVER.port), '-u', 'root', '--batch']
  args.push('--skip-column-names', '--default-character-set=utf8mb4', '--connect-timeout=5')
  if (db) args.push(`--database=${db}`)
  if (sql) args.push('-e', sql)
  const env = { ...process.env, MYSQL_PWD: undefined }
  // stdio 'pipe': the client's stderr goes into the thrown error, not onto the console.
  const opts = { encoding: 'utf8', input, env, stdio: 'pipe', maxBuffer: 64 << 20 } as const
  return execFileSync('mysql', args, opts)
}

export const mysqlAvailable = (): boolean =>
  serviceAvailable(
    `MariaDB/MySQL at ${SERVER.host}:${SERVER.port} (user root, no password) with mysqldump and mysql`,
    () => {
      try {
        execFileSync('mysqldump', ['--version'], { stdio: 'ignore' })
        return root('SELECT 1').trim() === '1'
      } catch {
        return false
      }
    },
  )

/** Runs SQL as root; the rows as arrays of (batch-escaped) columns. */
export const rows = (sql: string, db?: string): string[][] =>
  root(sql, db)
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'))

export const exec = (sql: string, db?: string): void => void root(sql, db)

/** A MySQL string literal, whatever the text holds. */
export const literal = (text: string): string =>
  `CONVERT(0x${Buffer.from(text).toString('hex')} USING utf8mb4)`

/** Names for one test file's databases and user, and their cleanup. */
export function fixture() {
  const id = randomBytes(4).toString('hex')
  const prefix = `bkt${id}`
  // Quotes, '#', backslash, ';' and edge spaces: the option file must carry them all.
  const password = ` p#"'\\;${randomBytes(9).toString('base64url')} `
  const user = `bk_${id}`
  const account = `'${user}'@'%'`
  const databases = new Set<string>()
  return {
    user,
    password,
    account,
    db(name: string): string {
      databases.add(`${prefix}${name}`)
      return `${prefix}${name}`
    },
    createUser(): void {
      // mysql_native_password's hash, so any password can be set without SQL quoting.
      const sha1 = (b: Buffer) => createHash('sha1').update(b).digest()
      const hash = `*${sha1(sha1(Buffer.from(password)))
        .toString('hex')
        .toUpperCase()}`
      exec(`CREATE USER ${account} IDENTIFIED BY PASSWORD '${hash}'`)
      exec(`GRANT ALL PRIVILEGES ON \`${prefix}%\`.* TO ${account}`)
    },
    cleanup(): void {
      const drop = [...databases].map((db) => `DROP DATABASE IF EXISTS \`${db}\`;`).join(' ')
      exec(`SET SESSION lock_wait_timeout = 10; ${drop}`)
      exec(`DROP USER IF EXISTS ${account}`)
    },
  }
}

/**
 * Creates db with tables, data, a view, a procedure, a function, a trigger and
 * events owned by definer; `blobs` rows of 4 KiB random bytes (the dump holds them in hex).
 */
export function seed(db: string, definer: string, blobs = 300): void {
  exec(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  const d = `DEFINER=${definer}`
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex')
  const big = Array.from(
    { length: blobs },
    (_, i) => `(${i + 1}, 0x${randomBytes(4096).toString('hex')})`,
  )
  const bigInserts = Array.from(
    { length: Math.ceil(blobs / 150) },
    (_, i) => `INSERT INTO big VALUES ${big.slice(i * 150, i * 150 + 150).join(',')};`,
  )
  const script = `
CREATE TABLE items (
  id INT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  note TEXT,
  data BLOB,
  bin VARBINARY(64),
  price DECIMAL(20,6),
  born DATE,
  at DATETIME(6),
  ts TIMESTAMP NULL,
  flag BIT(3),
  doc JSON
) ENGINE=InnoDB;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, item_id INT, msg VARCHAR(300)) ENGINE=InnoDB;
CREATE TABLE big (id INT PRIMARY KEY, payload MEDIUMBLOB) ENGINE=InnoDB;
INSERT INTO items VALUES
 (1, ${literal('Zwölf Boxkämpfer 🎉🚀 中文')}, ${literal('O\'Reilly \\ "x"\n\ttab')},
  0x${allBytes}, 0x00275C0D0A1A00, -12345678901234.123456, '0001-01-01', '2024-02-29 23:59:59.999999',
  '2038-01-19 03:14:07', b'101', '{"a": [1, 2, {"b": "ü"}]}'),
 (2, 'plain', NULL, NULL, NULL, 0.000001, '9999-12-31', '1970-01-01 00:00:00.000001', NULL, b'0', NULL),
 (3, ${literal('🙂'.repeat(50))}, REPEAT('long text ', 5000), X'', X'', 99999999999999.999999, NULL, NULL, NULL, NULL, '[]');
INSERT INTO audit (item_id, msg) VALUES (1, 'seeded'), (2, 'seeded');
${bigInserts.join('\n')}
DELIMITER //
CREATE ${d} FUNCTION price_with_tax(p DECIMAL(20,6)) RETURNS DECIMAL(22,6) DETERMINISTIC
  RETURN p * 1.2//
CREATE ${d} PROCEDURE add_item(IN p_id INT, IN p_name VARCHAR(200))
  MODIFIES SQL DATA
BEGIN
  INSERT INTO items (id, name) VALUES (p_id, p_name);
  SELECT COUNT(*) AS n FROM items;
END//
CREATE ${d} TRIGGER trg_items AFTER INSERT ON items FOR EACH ROW
  INSERT INTO audit (item_id, msg) VALUES (NEW.id, CONCAT('added ', NEW.name))//
CREATE ${d} EVENT ev_tick ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00'
  DO INSERT INTO audit (msg) VALUES ('tick')//
CREATE ${d} EVENT ev_off ON SCHEDULE AT '2031-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE
  COMMENT 'kept disabled' DO DELETE FROM audit//
DELIMITER ;
CREATE ${d} SQL SECURITY DEFINER VIEW v_items AS
  SELECT id, name, price_with_tax(price) AS gross FROM items WHERE price IS NOT NULL;
`
  root('', db, script)
}

const SHOW_CREATE: [string, number][] = [
  ['TABLE audit', 1],
  ['TABLE big', 1],
  ['TABLE items', 1],
  ['VIEW v_items', 1],
  ['FUNCTION price_with_tax', 2],
  ['PROCEDURE add_item', 2],
  ['TRIGGER trg_items', 2],
  ['EVENT ev_tick', 3],
  ['EVENT ev_off', 3],
]

/** Removes and changes rows, adds a table, drops one object of each kind but the function. */
export function mutate(db: string): void {
  exec(
    'DELETE FROM items WHERE id > 1; UPDATE items SET name = "changed"; ' +
      'DROP VIEW v_items; DROP PROCEDURE add_item; DROP TRIGGER trg_items; DROP EVENT ev_tick; ' +
      'UPDATE audit SET msg = NULL; CREATE TABLE scratch (i INT); ' +
      // Same size: the conformance suite aborts a later backup of this database mid-stream.
      'UPDATE big SET payload = REVERSE(payload) WHERE id <= 5',
    db,
  )
}

/** Runs a query as root; a failure (a dropped object) becomes part of the result. */
function lines(sql: string, db: string): string[] {
  try {
    return rows(sql, db).map((r) => r.join('\t'))
  } catch {
    return [`(failed: ${sql})`]
  }
}

/** Everything a restore must bring back, as text; DEFINER normalised. */
export function snapshot(db: string): string {
  const q = (sql: string) => lines(sql, db)
  const parts = [
    ...q('SHOW FULL TABLES').sort(),
    ...q(
      'SELECT id, HEX(name), HEX(note), HEX(data), HEX(bin), price, born, at, ts, flag + 0, doc' +
        ' FROM items ORDER BY id',
    ),
    ...q('SELECT * FROM audit ORDER BY id'),
    ...q('SELECT id, LENGTH(payload), SHA2(payload, 256) FROM big ORDER BY id'),
    ...q('SELECT id, HEX(name), gross FROM v_items ORDER BY id'),
    ...q(
      `SELECT EVENT_NAME, STATUS, EVENT_COMMENT FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1`,
    ),
  ]
  for (const [what, col] of SHOW_CREATE) {
    parts.push(lines(`SHOW CREATE ${what}`, db)[0]?.split('\t')[col] ?? '(missing)')
  }
  return parts.join('\n').replace(/DEFINER=`[^`]*`@`[^`]*`/g, 'DEFINER=?')
}
