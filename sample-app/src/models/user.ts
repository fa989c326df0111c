import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const EMAIL_MAX = 254;
export const NAME_MAX = 100;

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare name: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  toJSON() {
    return {
      id: this.id,
      email: this.email,
      name: this.name,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }
}

/** Binds the model to a Sequelize instance; the table itself is created by the migrations. */
export function defineUser(sequelize: Sequelize): typeof User {
  User.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      email: {
        type: DataTypes.STRING(EMAIL_MAX),
        allowNull: false,
        unique: true,
        validate: { isEmail: { msg: 'must be a valid e-mail address' } },
      },
      name: {
        type: DataTypes.STRING(NAME_MAX),
        allowNull: false,
        validate: { len: { args: [1, NAME_MAX], msg: `must be 1 to ${NAME_MAX} characters` } },
      },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'users', underscored: true, modelName: 'User' },
  );
  return User;
}
